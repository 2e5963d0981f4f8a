// A pull with a chunk cache reads chunks from the cache and from the host's other checkpoint
// directories before the store, each checked against its hash: a cache entry that is damaged or
// cut short is fetched again and replaced; models that share a base cost only what they do not
// share. Bytes are counted at the store. Imports the BUILT package: the chunker runs in worker threads.
import { createHash } from 'node:crypto';
import { open as openFile, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, readTree, seededBytes, useTempDir } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, ChunkCache, cacheStats, type ObjectStore, withEvents } from '../../dist/index.js';
import { SMALL_CHUNKING } from '../sync/small-chunking.js';

const tempDir = useTempDir('ckpt-host-reuse-');
let work: string;
let store: MemoryStore;
let cacheDir: string;
const open: Checkpoints[] = [];

beforeEach(async () => {
  work = await tempDir();
  store = new MemoryStore();
  cacheDir = path.join(work, 'cache');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/**
 * A host: its own state directory (`host`), the cache when `cached`; the bytes its reads of packs
 * receive are counted.
 */
function onHost(host: string, cached: boolean, over: ObjectStore = store) {
  const counter = { packBytes: 0 };
  const ckpt = new Checkpoints(
    withEvents(over, (e) => {
      if (e.op === 'get' && e.key.startsWith('ckpt/packs/')) counter.packBytes += e.bytes;
    }),
    {
      chunking: SMALL_CHUNKING,
      packSize: 256 << 10,
      stateDir: path.join(work, 'state', host),
      ...(cached ? { cache: { dir: cacheDir } } : {}),
    },
  );
  open.push(ckpt);
  return { ckpt, counter };
}

/** A model of the same container image as every other: the base tree plus weights of its own. */
async function model(name: string, seed: number, weightsBytes = 1 << 20): Promise<string> {
  const dir = await makeCheckpoint(path.join(work, 'models', name), { pagesScale: 2 });
  await writeFile(path.join(dir, 'weights.img'), seededBytes(weightsBytes, 1000 + seed));
  return dir;
}

async function push(name: string, dir: string) {
  const { ckpt } = onHost('pusher', false);
  return ckpt.push(name, dir);
}

/** Every entry of the cache, by key: each must hold the bytes its name says. */
async function entries(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const root = path.join(cacheDir, 'sha256');
  for (const fan of await readdir(root).catch(() => [] as string[]))
    for (const name of await readdir(path.join(root, fan))) {
      const bytes = await readFile(path.join(root, fan, name));
      out.set(name, createHash('sha256').update(bytes).digest('hex'));
    }
  return out;
}

async function allIntact() {
  const found = await entries();
  for (const [key, sha] of found) expect(sha).toBe(key);
  return found.size;
}

describe('the chunk cache', () => {
  let src: string;
  let chunks: number;
  beforeEach(async () => {
    src = await model('a', 1);
    const pushed = await push('a', src);
    chunks = pushed.chunksNew;
    // a host pulls with the cache: every chunk it downloads is cached
    const first = onHost('first', true);
    const pulled = await first.ckpt.pull('a', path.join(work, 'first'));
    expect(pulled.chunksNew).toBe(chunks);
    expect(await allIntact()).toBe(chunks);
  });

  it('serves a later pull on another host folder whole: nothing is read from the store', async () => {
    const { ckpt, counter } = onHost('second', true);
    const dst = path.join(work, 'second');
    const pulled = await ckpt.pull('a', dst);
    expect(pulled).toMatchObject({ chunksCached: chunks, chunksNew: 0, chunksShared: 0 });
    expect(counter.packBytes).toBe(0);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
  });

  it.each([
    [
      'with a flipped byte',
      async (file: string) => {
        const handle = await openFile(file, 'r+');
        const byte = Buffer.alloc(1);
        await handle.read(byte, 0, 1, 100);
        await handle.write(Buffer.from([byte[0]! ^ 0x40]), 0, 1, 100);
        await handle.close();
      },
    ],
    ['cut short', (file: string) => truncate(file, 1000)],
  ])(
    'a cache entry %s is detected: that chunk alone is fetched again, and its entry replaced',
    async (_, damage) => {
      const found = [...(await entries()).keys()];
      const key = found[Math.floor(found.length / 2)]!;
      const file = path.join(cacheDir, 'sha256', key.slice(0, 2), key);
      const length = (await readFile(file)).length;
      await damage(file);
      const { ckpt, counter } = onHost('second', true);
      const dst = path.join(work, 'second');
      const pulled = await ckpt.pull('a', dst);
      expect(pulled).toMatchObject({ chunksCached: chunks - 1, chunksNew: 1 });
      expect(counter.packBytes).toBe(length);
      expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
      expect(await allIntact()).toBe(chunks);
    },
  );

  it('a push fills the cache with the chunks it uploads', async () => {
    await rm(cacheDir, { recursive: true });
    const next = await model('b', 2);
    const { ckpt } = onHost('pusher', true);
    const pushed = await ckpt.push('b', next);
    expect(await allIntact()).toBe(pushed.chunksNew);
  });

  it('stays within its bound: a pull that fills it evicts the least recently used entries', async () => {
    const stats = await cacheStats(new ChunkCache({ dir: cacheDir }));
    const bound = Math.floor(stats.bytes / 2);
    await rm(cacheDir, { recursive: true });
    const small = new Checkpoints(store, {
      chunking: SMALL_CHUNKING,
      stateDir: path.join(work, 'state', 'bounded'),
      cache: { dir: cacheDir, maxBytes: bound },
    });
    open.push(small);
    await small.pull('a', path.join(work, 'bounded'));
    const after = await cacheStats(new ChunkCache({ dir: cacheDir, maxBytes: bound }));
    expect(after.bytes).toBeLessThanOrEqual(bound);
    expect(after.entries).toBeGreaterThan(0);
    await allIntact();
  });
});

describe('models that share a base', () => {
  let a: string;
  let b: string;
  const weights = 1 << 20;
  beforeEach(async () => {
    a = await model('a', 1, weights);
    b = await model('b', 2, weights);
    await push('a', a);
    await push('b', b);
  });

  it('a host holding A pulls B reading only what B does not share, from its directory; then from the cache alone', async () => {
    const host = onHost('host', true);
    await host.ckpt.pull('a', path.join(work, 'a'));
    const before = host.counter.packBytes;
    const pulledB = await host.ckpt.pull('b', path.join(work, 'b'));
    const readForB = host.counter.packBytes - before;
    expect(pulledB.chunksShared).toBeGreaterThan(0);
    expect(readForB).toBeGreaterThanOrEqual(weights);
    expect(readForB).toBeLessThanOrEqual(weights + (256 << 10)); // at most one pack per file boundary
    expect(await readTree(path.join(work, 'b'), { times: true })).toEqual(await readTree(b, { times: true }));

    // both directories evicted, the host's records gone: the cache serves both models alone
    const evicted = onHost('evicted', true);
    for (const [name, dir] of [
      ['a', a],
      ['b', b],
    ] as const) {
      const dst = path.join(work, `again-${name}`);
      const pulled = await evicted.ckpt.pull(name, dst);
      expect(pulled.chunksNew).toBe(0);
      expect(await readTree(dst, { times: true })).toEqual(await readTree(dir, { times: true }));
    }
    expect(evicted.counter.packBytes).toBe(0);
  });

  it('without the cache a pull of B reads all of B, as before', async () => {
    const host = onHost('host', false);
    await host.ckpt.pull('a', path.join(work, 'a'));
    const before = host.counter.packBytes;
    const pulledB = await host.ckpt.pull('b', path.join(work, 'b'));
    expect(pulledB).toMatchObject({ chunksShared: 0, chunksCached: 0, chunksReused: 0 });
    expect(host.counter.packBytes - before).toBeGreaterThan(3 * weights);
  });

  it('a file of another directory that changed since its record is never a source of wrong bytes', async () => {
    const host = onHost('host', true);
    const heldA = path.join(work, 'a');
    await host.ckpt.pull('a', heldA);
    await rm(cacheDir, { recursive: true });
    // other bytes in a file of A's directory: its stamp no longer matches A's record
    const pages = path.join(heldA, 'pages-1.img');
    const bytes = await readFile(pages);
    bytes[10] = bytes[10]! ^ 1;
    await writeFile(pages, bytes);
    const pulledB = await host.ckpt.pull('b', path.join(work, 'b'));
    expect(await readTree(path.join(work, 'b'), { times: true })).toEqual(await readTree(b, { times: true }));
    expect(pulledB.chunksShared).toBeGreaterThan(0);
  });
});
