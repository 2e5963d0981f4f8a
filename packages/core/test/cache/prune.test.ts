// Eviction of the chunk cache: least recently used first, within the bound, and safe while other
// processes prune and write the same cache (entries vanish under each pruner).
import { createHash } from 'node:crypto';
import { readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { seededBytes, useTempDir } from '@ckpt/test-utils';
import { expect, it } from 'vitest';
import { pruneIfFull } from '../../src/cache/cache-prune.js';
import { ChunkCache, cacheStats, pruneCache } from '../../src/cache/index.js';

const tempDir = useTempDir('ckpt-cache-prune-');

/** `count` entries of `size` bytes, the i-th last used i minutes after the epoch's first hour. */
async function filled(dir: string, count: number, size: number) {
  const cache = new ChunkCache({ dir, maxBytes: size * count });
  const keys: string[] = [];
  for (let i = 0; i < count; i++) {
    const data = seededBytes(size, i + 1);
    const key = createHash('sha256').update(data).digest('hex');
    expect(cache.putSync(key, data)).toBe(true);
    const at = new Date(3_600_000 + i * 60_000);
    await utimes(cache.entryPath(key), at, at);
    keys.push(key);
  }
  return { cache, keys };
}

it('removes the least recently used entries first, down to the bound; a touched entry stays', async () => {
  const { cache, keys } = await filled(await tempDir(), 10, 1000);
  await cache.touch(keys[0]!); // the oldest becomes the newest
  const pruned = await pruneCache(cache, 4000);
  expect(pruned).toMatchObject({ removed: 6, bytesFreed: 6000, entries: 4, bytes: 4000 });
  const left = new Set(keys.filter((key) => cache.holds(key, 1000)));
  expect(left).toEqual(new Set([keys[0], keys[7], keys[8], keys[9]]));
});

it('several prunes and a writer at once: none fails, the cache ends within the bound', async () => {
  const dir = await tempDir();
  const { cache } = await filled(dir, 200, 4096);
  const writer = (async () => {
    for (let i = 0; i < 50; i++) {
      const data = seededBytes(4096, 1000 + i);
      cache.putSync(createHash('sha256').update(data).digest('hex'), data);
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const bound = 50 * 4096;
  await Promise.all([pruneCache(cache, bound), pruneCache(cache, bound), pruneCache(cache, bound), writer]);
  await pruneCache(cache, bound);
  expect((await cacheStats(cache)).bytes).toBeLessThanOrEqual(bound);
  expect(await readdir(path.join(dir, 'tmp'))).toEqual([]);
});

it("an operation's check leaves a large cache far below its bound alone and prunes one over it", async () => {
  const count = 4000; // about 125 in the 8 fan-out folders sampled: estimated, not counted
  const { cache } = await filled(await tempDir(), count, 64);
  expect(await pruneIfFull(new ChunkCache({ dir: cache.dir, maxBytes: 100 * count * 64 }))).toBeUndefined();
  const bound = (count * 64) / 2;
  const pruned = await pruneIfFull(new ChunkCache({ dir: cache.dir, maxBytes: bound }));
  expect(pruned?.bytes).toBeLessThanOrEqual(bound * 0.9);
  expect((await cacheStats(cache)).bytes).toBe(pruned?.bytes);
});
