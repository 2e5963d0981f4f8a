// Filling the chunk cache behind an operation: entries are written by the writer thread from shared
// memory, exact, within a bounded amount of copied bytes; a pull's filler writes every chunk, a
// push's copies a chunk before `offer` returns or drops it, and a writer that fails costs only
// entries. Imports the BUILT package: the writer runs in a worker thread.
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { seededBytes, useTempDir } from '@ckpt/test-utils';
import { afterEach, expect, it } from 'vitest';
import { CacheFiller } from '../../dist/cache/cache-filler.js';
import { CacheWriter } from '../../dist/cache/cache-writer.js';
import { ChunkCache, cacheStats } from '../../dist/index.js';

const tempDir = useTempDir('ckpt-cache-filler-');
const writers: CacheWriter[] = [];
afterEach(async () => {
  await Promise.all(writers.splice(0).map((w) => w.close()));
});

function setUp(dir: string) {
  const writer = new CacheWriter();
  writers.push(writer);
  return { cache: new ChunkCache({ dir }), writer };
}

const keyOf = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

/** Every chunk has its entry, holding exactly its bytes. */
async function expectEntries(cache: ChunkCache, chunks: Uint8Array[]) {
  for (const data of chunks) expect(keyOf(await readFile(cache.entryPath(keyOf(data))))).toBe(keyOf(data));
}

it('a pull waits for room: every chunk is written exactly, 40 MiB through a 16 MiB queue, one larger than a slab', async () => {
  const { cache, writer } = setUp(await tempDir());
  const filler = new CacheFiller(cache, writer, { whenFull: 'wait' });
  const chunks = Array.from({ length: 160 }, (_, i) => seededBytes(256 << 10, i + 1));
  chunks.push(seededBytes(3 << 20, 999));
  for (const data of chunks) await filler.offer(keyOf(data), data.length, (target) => void target.set(data));
  await filler.finish();
  expect(filler).toMatchObject({ stored: chunks.length, dropped: 0 });
  await expectEntries(cache, chunks);
  expect((await cacheStats(cache)).entries).toBe(chunks.length);
});

it('a push copies each chunk before offer returns (the caller reuses its buffer) or drops it', async () => {
  const { cache, writer } = setUp(await tempDir());
  const filler = new CacheFiller(cache, writer, { whenFull: 'drop' });
  const chunks = Array.from({ length: 160 }, (_, i) => seededBytes(256 << 10, i + 1));
  const reused = Buffer.alloc(256 << 10);
  for (const data of chunks) {
    reused.set(data);
    void filler.offer(keyOf(data), data.length, (target) => reused.copy(target));
    reused.fill(0xee); // what a copy made later would see
  }
  await filler.finish();
  expect(filler.dropped).toBeGreaterThan(0); // 40 MiB offered at once through a 16 MiB queue
  expect(filler.stored + filler.dropped).toBe(chunks.length);
  const kept = chunks.filter((data) => cache.holds(keyOf(data), data.length));
  expect(kept.length).toBe(filler.stored);
  await expectEntries(cache, kept);
});

it('a writer that cannot write costs only the entries: offers and finish still resolve', async () => {
  const { cache, writer } = setUp(await tempDir());
  await writer.close(); // every write now fails
  for (const whenFull of ['wait', 'drop'] as const) {
    const filler = new CacheFiller(cache, writer, { whenFull });
    for (let i = 0; i < 80; i++) {
      const data = seededBytes(256 << 10, i + 1);
      await filler.offer(keyOf(data), data.length, (target) => void target.set(data));
    }
    await filler.finish();
    expect(filler.stored).toBe(0);
  }
  expect((await cacheStats(cache)).entries).toBe(0);
});
