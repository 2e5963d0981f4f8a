// The sync engine on the in-memory store. Imports the BUILT package: the chunker runs in worker threads.
import { execFileSync } from 'node:child_process';
import {
  appendFile,
  lstat,
  mkdir,
  mkdtemp,
  open,
  readdir,
  readFile,
  rm,
  stat,
  utimes,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { makeCheckpoint, readTree, seededBytes } from '@ckpt/test-utils';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryBackend, MemoryStore, withFaults } from '../../dist/exports/testing.js';
import {
  type BackendGetOptions,
  BackendStore,
  Checkpoints,
  type GetOptions,
  type GetResult,
  type ListOptions,
  StoreError,
  StoreLayer,
  withEvents,
} from '../../dist/index.js';
import { statePath } from '../../src/sync/local-state.js';
import { stampOf } from '../../src/sync/stamp.js';
import { SMALL_CHUNKING } from './small-chunking.js';

let work: string;
let store: MemoryStore;
let ckpt: Checkpoints;
/** Where the engine keeps its local records in this test run (vitest.config.ts sets it). */
const recordOf = (dir: string) => statePath(process.env.CKPT_STATE_DIR!, dir);
const small = { chunking: SMALL_CHUNKING, packSize: 1 << 20 };
/** A file's time as a push records it: to the microsecond. */
const microseconds = (st: { mtimeNs: bigint }) => st.mtimeNs / 1000n;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-engine-'));
  store = new MemoryStore();
  ckpt = new Checkpoints(store, small);
});
afterEach(async () => {
  await ckpt.close();
  await rm(work, { recursive: true, force: true });
});
afterAll(() => undefined);

const keys = async (prefix = '') => {
  const out: string[] = [];
  for await (const m of store.list(prefix)) out.push(m.key);
  return out;
};

describe('push and pull', () => {
  it('round-trips files, subdirectories, empty files, modes, zero runs and symlinks', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const pushed = await ckpt.push('m1', src);
    expect(pushed.files).toBe(27);
    expect(pushed.zeroBytes).toBeGreaterThanOrEqual(2 << 20);
    expect(pushed.bytesTransferred).toBeLessThan(pushed.bytes - (2 << 20));
    expect(pushed.parent).toBeNull();
    const dst = path.join(work, 'dst');
    const pulled = await ckpt.pull('m1', dst);
    expect(pulled.generation).toBe(pushed.generation);
    expect(await readTree(dst)).toEqual(await readTree(src));
    // the local records live in the state directory, neither inside nor beside the directories
    expect((await readdir(work)).sort()).toEqual(['dst', 'src']);
    await expect(stat(recordOf(src))).resolves.toBeDefined();
    await expect(stat(recordOf(dst))).resolves.toBeDefined();
  });

  it('re-pushing an unchanged directory writes nothing and names the generation it matches', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const first = await ckpt.push('m1', src, { labels: { host: 'a', node: '1' } });
    const before = await keys();
    const again = await ckpt.push('m1', src, { labels: { node: '1', host: 'a' } });
    expect(again).toMatchObject({ generation: first.generation, parent: first.generation, unchanged: true });
    expect(again).toMatchObject({ chunksNew: 0, bytesTransferred: 0, concurrent: [] });
    expect(again.chunksReused).toBe(first.chunksNew);
    expect(await keys()).toEqual(before);
  });

  it('re-pushing the same bytes with new times or labels writes only a manifest', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const first = await ckpt.push('m1', src);
    const packs = await keys('ckpt/packs/');
    const relabelled = await ckpt.push('m1', src, { labels: { reason: 'evicted' } });
    expect(relabelled).toMatchObject({ parent: first.generation, unchanged: true, chunksNew: 0 });
    expect(relabelled.generation > first.generation).toBe(true);
    expect((await ckpt.generations('m1')).at(-1)?.labels).toEqual({ reason: 'evicted' });
    const file = path.join(src, 'pages-1.img');
    await utimes(file, new Date(2_000_000_000_000), new Date(2_000_000_000_000));
    const touched = await ckpt.push('m1', src, { labels: { reason: 'evicted' } });
    expect(touched).toMatchObject({ parent: relabelled.generation, unchanged: true, chunksNew: 0 });
    expect(touched.generation > relabelled.generation).toBe(true);
    expect(touched.bytesTransferred).toBeLessThan(64 * 1024);
    expect(await keys('ckpt/packs/')).toEqual(packs);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    expect(microseconds(await stat(path.join(dst, 'pages-1.img'), { bigint: true }))).toBe(
      2_000_000_000_000_000n,
    );
  });

  it('an unchanged re-push commits when another writer committed meanwhile', async () => {
    const src = path.join(work, 'src');
    const other = path.join(work, 'other');
    await makeCheckpoint(src);
    await makeCheckpoint(other);
    await writeFile(path.join(other, 'extra.img'), seededBytes(10_000, 5));
    const first = await ckpt.push('m1', src);
    const writer = new Checkpoints(store, small);
    let lists = 0;
    let theirs = '';
    // the other writer commits while this push looks at the latest generation before committing
    class RacingStore extends StoreLayer {
      override list(prefix?: string, options?: ListOptions) {
        const inner = this.inner;
        if (!prefix?.includes('m1') || ++lists !== 2) return inner.list(prefix, options);
        return (async function* () {
          theirs = (await writer.push('m1', other)).generation;
          yield* inner.list(prefix, options);
        })();
      }
    }
    const racing = new Checkpoints(new RacingStore(store), small);
    const again = await racing.push('m1', src);
    await racing.close();
    await writer.close();
    expect(theirs).not.toBe('');
    expect(again).toMatchObject({ parent: first.generation, unchanged: true, concurrent: [theirs] });
    expect(again.generation > theirs).toBe(true);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('pushes the next version incrementally and pulls it over the old one, reusing local chunks', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const v1 = await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    const untouched = (await lstat(path.join(dst, 'pages-2.img'))).ino;
    // v2: change a few bytes in the middle of pages-1, add a file, remove one
    execFileSync(
      'dd',
      [
        'if=/dev/urandom',
        `of=${path.join(src, 'pages-1.img')}`,
        'bs=4096',
        'seek=100',
        'count=4',
        'conv=notrunc',
      ],
      {
        stdio: 'ignore',
      },
    );
    await writeFile(path.join(src, 'core-999.img'), seededBytes(5000, 9));
    await rm(path.join(src, 'core-100.img'));
    const v2 = await ckpt.push('m1', src);
    expect(v2.parent).toBe(v1.generation);
    expect(v2.unchanged).toBe(false);
    expect(v2.chunksReused).toBeGreaterThan(v2.chunksNew);
    expect(v2.bytesTransferred).toBeLessThan(1 << 20);
    const pulled = await ckpt.pull('m1', dst);
    expect(pulled.generation).toBe(v2.generation);
    expect(pulled.chunksReused).toBeGreaterThan(0);
    expect(pulled.bytesTransferred).toBeLessThan(1 << 20);
    expect(await readTree(dst)).toEqual(await readTree(src));
    // a file the new generation has unchanged is hard-linked from the old tree, and the local
    // record knows every file as it is now: the next pull has nothing to do
    expect((await lstat(path.join(dst, 'pages-2.img'))).ino).toBe(untouched);
    expect((await ckpt.pull('m1', dst)).upToDate).toBe(true);
    // and pulling the old generation back gives the old content
    const old = path.join(work, 'old');
    await ckpt.pull('m1', old, { generation: v1.generation });
    expect((await readTree(old))['core-100.img']).toBeDefined();
  });

  it('each generation records the bytes it added to the store: all of them first, then only the new', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    await writeFile(path.join(src, 'new.img'), seededBytes(1000, 11)); // one chunk no generation has
    await ckpt.push('m1', src, { labels: { v: '2' } });
    await ckpt.push('m1', src, { labels: { v: '3' } }); // a manifest only
    const [first, second, third] = await ckpt.generations('m1');
    expect(first!.addedBytes).toBe(first!.storedBytes);
    expect(second!.addedBytes).toBe(1000);
    expect(second!.storedBytes).toBe(first!.storedBytes + 1000);
    expect(third!.addedBytes).toBe(0);
  });

  it('a pull into a directory already at that generation does nothing', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    // stored by another writer, indented: still valid (the checksum is over the JSON value)
    const [manifestKey] = (await keys('ckpt/models/m1/')).filter((k) => k.endsWith('.json'));
    const compact = await store.get(manifestKey!).then((got) => readAll(got.body));
    const indented = Buffer.from(JSON.stringify(JSON.parse(compact.toString()), null, 2));
    await store.put(manifestKey!, indented);
    await ckpt.pull('m1', dst);
    // the local record carries the manifest exactly as stored, not encoded again
    const record = await readFile(recordOf(dst));
    expect(record.subarray(record.indexOf(0x0a) + 1).equals(indented)).toBe(true);
    const again = await ckpt.pull('m1', dst);
    expect(again.upToDate).toBe(true);
    // an extra file makes it not up to date; it is somebody's, so only a forced pull removes it
    await writeFile(path.join(dst, 'stray'), 'x');
    await expect(ckpt.pull('m1', dst)).rejects.toThrow(/stray was not written by ckpt.*--force/);
    expect(await readFile(path.join(dst, 'stray'), 'utf8')).toBe('x');
    const third = await ckpt.pull('m1', dst, { force: true });
    expect(third.upToDate).toBe(false);
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('a file modified after a pull is not trusted as a local source', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    await appendFile(path.join(dst, 'pages-2.img'), 'tail');
    // a changed file is somebody's work: replaced only when asked to
    await expect(ckpt.pull('m1', dst)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await ckpt.pull('m1', dst, { force: true });
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('a fresh pull reads each pack of the default size in one request', async () => {
    const src = path.join(work, 'src');
    await mkdir(src);
    await writeFile(path.join(src, 'pages-1.img'), seededBytes(20 << 20, 7));
    const defaults = new Checkpoints(store);
    const packReads: number[] = [];
    const counted = new Checkpoints(
      withEvents(store, (e) => {
        if (e.op === 'get' && e.key.startsWith('ckpt/packs/')) packReads.push(e.bytes);
      }),
    );
    try {
      await defaults.push('m1', src);
      const packs = await keys('ckpt/packs/');
      expect(packs.length).toBeGreaterThan(1);
      await counted.pull('m1', path.join(work, 'dst'));
      expect(packReads).toHaveLength(packs.length);
      expect(Math.max(...packReads)).toBeGreaterThan(4 << 20);
    } finally {
      await Promise.all([defaults.close(), counted.close()]);
    }
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(src));
  });
});

describe('failures leave the destination as it was', () => {
  it('a flipped byte in a stored chunk fails the pull naming the file; verify reports it', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    await mkdir(dst);
    await writeFile(path.join(dst, 'keep-me'), 'old content');
    // flip one byte in every pack
    for (const key of await keys('ckpt/packs/')) {
      const got = await store.get(key);
      const chunks: Buffer[] = [];
      for await (const c of got.body) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      const mid = data.length >> 1;
      data[mid] = data[mid]! ^ 0xff;
      await store.put(key, data);
    }
    const err = await ckpt.pull('m1', dst, { force: true }).catch((e) => e);
    expect(StoreError.is(err, 'Integrity')).toBe(true);
    expect(err.message).toMatch(/needed by \S+/);
    expect(await readTree(dst)).toEqual({ 'keep-me': expect.objectContaining({ type: 'file' }) });
    expect((await readdir(work)).filter((n) => n.includes('ckpt-pull'))).toEqual([]);
    const report = await ckpt.verify('m1');
    expect(report.ok).toBe(false);
    expect(report.problems.length).toBeGreaterThan(0);
    expect(report.problems[0]!.path).toMatch(/\.img|kernel\.bin|README|cuda_pids/);
  });

  it('a file that changes or vanishes after the scan fails the push, naming it, and commits nothing', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    // the push asks the store for the latest generation after its scan, before reading any file
    const afterScan = (change: () => Promise<void>) =>
      class extends StoreLayer {
        override list(prefix?: string, options?: ListOptions) {
          const inner = this.inner;
          return (async function* () {
            await change();
            yield* inner.list(prefix, options);
          })();
        }
      };
    const small = path.join(src, 'core-105.img');
    const large = path.join(src, 'pages-2.img');
    for (const [file, change, code] of [
      [small, () => writeFile(small, seededBytes(385, 99)), 'Conflict'],
      [large, () => writeFile(large, seededBytes(700 << 10, 99)), 'Conflict'],
      [small, () => rm(small), 'NotFound'],
    ] as const) {
      const Layer = afterScan(change);
      const racing = new Checkpoints(new Layer(store), { concurrency: 2 });
      const err = await racing.push('m1', src).catch((e) => e);
      await racing.close();
      expect(StoreError.is(err, code)).toBe(true);
      expect(err.message).toContain(file);
      expect(await keys('ckpt/models/')).toEqual([]);
    }
  });

  it('a pack read that fails stops the other reads, and the pull returns only once none is left running', async () => {
    let inFlight = 0;
    let failed = false;
    class FailingStore extends StoreLayer {
      override async get(key: string, options?: GetOptions): Promise<GetResult> {
        if (!key.startsWith('ckpt/packs/')) return this.inner.get(key, options);
        inFlight++;
        try {
          if (!failed) {
            failed = true;
            throw new StoreError('PermissionDenied', 'access denied', { operation: 'get', key });
          }
          await new Promise((resolve) => setTimeout(resolve, 50)); // still starting when the first fails
          const result = await this.inner.get(key, options);
          result.body.once('close', () => inFlight--);
          return result;
        } catch (err) {
          inFlight--;
          throw err;
        }
      }
    }
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const writer = new Checkpoints(store, { ...small, packSize: 256 << 10 });
    await writer.push('m1', src).finally(() => writer.close());
    const reader = new Checkpoints(new FailingStore(store), { ...small, concurrency: 4 });
    const dst = path.join(work, 'dst');
    const err = await reader.pull('m1', dst).catch((e) => e);
    expect(inFlight).toBe(0);
    await reader.close();
    expect(StoreError.is(err, 'PermissionDenied')).toBe(true);
    expect((await readdir(work)).filter((n) => n.includes('ckpt-pull') || n === 'dst')).toEqual([]);
  });

  it('a pull whose store listens to the abort signal per read prints no listener-leak warning', async () => {
    // like the AWS SDK (and a retry layer): a listener or two per request in flight
    class ListeningStore extends StoreLayer {
      override async get(key: string, options?: GetOptions): Promise<GetResult> {
        const listeners = [() => {}, () => {}];
        for (const l of listeners) options?.signal?.addEventListener('abort', l);
        await new Promise((resolve) => setTimeout(resolve, 20)); // all reads in flight at once
        const result = await this.inner.get(key, options);
        result.body.once('close', () => {
          for (const l of listeners) options?.signal?.removeEventListener('abort', l);
        });
        return result;
      }
    }
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const writer = new Checkpoints(store, { ...small, packSize: 256 << 10 }); // ~20 packs
    await writer.push('m1', src).finally(() => writer.close());
    const reader = new Checkpoints(new ListeningStore(store), { ...small, concurrency: 8 });
    const warnings: string[] = [];
    const collect = (w: Error) => warnings.push(w.name);
    process.on('warning', collect);
    try {
      await reader.pull('m1', path.join(work, 'dst'));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', collect);
      await reader.close();
    }
    expect(warnings).toEqual([]);
  });

  it('identical files pushed at once store their bytes once; counts are distinct chunks, as pull counts them', async () => {
    const src = path.join(work, 'same');
    await mkdir(src);
    const content = seededBytes(100_000, 7);
    for (let i = 0; i < 12; i++) await writeFile(path.join(src, `copy-${i}.img`), content);
    const pushed = await ckpt.push('m1', src);
    expect([pushed.chunksNew, pushed.chunksReused]).toEqual([1, 0]);
    expect(pushed.bytesTransferred).toBeLessThan(2 * content.length);
    const pulled = await ckpt.pull('m1', path.join(work, 'dst'));
    expect([pulled.chunksNew, pulled.chunksReused]).toEqual([1, 0]);
    const again = await ckpt.push('m1', src);
    expect([again.chunksNew, again.chunksReused]).toEqual([0, 1]);
  });

  it('a hostile manifest with a ../ path is refused before anything is written', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const { generation } = await ckpt.push('m1', src);
    const key = `ckpt/models/m1/${generation}.json`;
    const got = await store.get(key);
    const chunks: Buffer[] = [];
    for await (const c of got.body) chunks.push(c as Buffer);
    const manifest = JSON.parse(Buffer.concat(chunks).toString());
    manifest.entries.push({
      path: '../escaped',
      type: 'file',
      mode: 0o644,
      size: 0,
      mtimeMs: 0,
      extents: [],
    });
    // recompute the checksum so only the path check can catch it
    const { createHash } = await import('node:crypto');
    const { checksum: _c, ...rest } = manifest;
    manifest.checksum = createHash('sha256').update(JSON.stringify(rest)).digest('hex');
    await store.put(key, Buffer.from(JSON.stringify(manifest)));
    const dst = path.join(work, 'sub', 'dst');
    const err = await ckpt.pull('m1', dst).catch((e) => e);
    expect(StoreError.is(err, 'Integrity')).toBe(true);
    expect(err.message).toMatch(/\.\.\/escaped/);
    expect(await readdir(work)).not.toContain('escaped');
    expect(await readdir(path.join(work, 'sub')).catch(() => [])).toEqual([]);
  });

  it('an aborted pull leaves the destination untouched and a retry succeeds', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    await mkdir(dst);
    await writeFile(path.join(dst, 'old'), 'old');
    const controller = new AbortController();
    const err = await ckpt
      .pull('m1', dst, {
        force: true,
        signal: controller.signal,
        onProgress: (e) => {
          if (e.phase === 'download' && e.bytesDone > e.bytesTotal / 3) controller.abort();
        },
      })
      .catch((e) => e);
    expect(StoreError.is(err, 'Aborted')).toBe(true);
    expect(Object.keys(await readTree(dst))).toEqual(['old']);
    await ckpt.pull('m1', dst, { force: true });
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('refuses special files, missing sources and bad model names clearly', async () => {
    const src = path.join(work, 'src');
    await mkdir(src);
    execFileSync('mkfifo', [path.join(src, 'fifo')]);
    const fifo = await ckpt.push('m1', src).catch((e) => e);
    expect(StoreError.is(fifo, 'InvalidArgument')).toBe(true);
    expect(fifo.message).toMatch(/fifo.*FIFO/);
    const missing = await ckpt.push('m1', path.join(work, 'nope')).catch((e) => e);
    expect(StoreError.is(missing, 'NotFound')).toBe(true);
    for (const bad of ['', 'a/b/c', '..', 'x\n', '.hidden']) {
      const err = await ckpt.push(bad, src).catch((e) => e);
      expect(StoreError.is(err, 'InvalidArgument')).toBe(true);
    }
    expect(await keys()).toEqual([]);
  });
});

describe('catalog, delete and gc', () => {
  it('exists, list, generations, delete and gc', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    expect(await ckpt.exists('m1')).toBe(false);
    const a = await ckpt.push('m1', src);
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(700 << 10, 77));
    const b = await ckpt.push('m1', src);
    await ckpt.push('m2', src);
    expect(await ckpt.exists('m1')).toBe(true);
    expect((await ckpt.list()).map((m) => [m.model, m.generations])).toEqual([
      ['m1', 2],
      ['m2', 1],
    ]);
    expect((await ckpt.generations('m1')).map((g) => g.generation)).toEqual([a.generation, b.generation]);
    // gc with nothing to do deletes nothing
    expect((await ckpt.gc({ grace: 0 })).packsDeleted).toBe(0);
    // keep 1: a goes to the trash; with a grace period its data stays
    const kept = await ckpt.gc({ keep: 1, grace: 3600_000 });
    expect(kept.expiredGenerations).toEqual([`m1@${a.generation}`]);
    expect(kept.packsDeleted).toBe(0);
    // past the grace period, only what m1@b and m2 need remains, and both still pull
    const freed = await ckpt.gc({ grace: 0 });
    expect(freed.purgedGenerations).toBe(1);
    await ckpt.delete('m2', { all: true });
    expect(await ckpt.exists('m2')).toBe(false);
    const afterDelete = await ckpt.gc({ grace: 0 });
    expect(afterDelete.packsDeleted).toBeGreaterThan(0);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect((await ckpt.verify('m1')).ok).toBe(true);
    await expect(ckpt.pull('m1', dst, { generation: a.generation })).rejects.toMatchObject({
      code: 'NotFound',
    });
    await expect(ckpt.pull('nope', dst)).rejects.toMatchObject({ code: 'NotFound' });
  });

  it('two concurrent pushes both commit and the later commit is the latest', async () => {
    const s1 = path.join(work, 's1');
    const s2 = path.join(work, 's2');
    await makeCheckpoint(s1, { seed: 1 });
    await makeCheckpoint(s2, { seed: 2 });
    const other = new Checkpoints(store, small);
    const [r1, r2] = await Promise.all([ckpt.push('m1', s1), other.push('m1', s2)]);
    await other.close();
    const gens = (await ckpt.generations('m1')).map((g) => g.generation);
    expect(gens.sort()).toEqual([r1.generation, r2.generation].sort());
    const latest = gens.at(-1)!;
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    expect(await readTree(dst)).toEqual(await readTree(latest === r1.generation ? s1 : s2));
  });

  it('a local chunk whose bytes no longer match is downloaded instead (pull over a damaged copy)', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m1', src);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m1', dst);
    // the next version changes pages-1.img near its end, so the pull copies the rest chunk by chunk
    const changed = await open(path.join(src, 'pages-1.img'), 'r+');
    await changed.write(seededBytes(4096, 5), 0, 4096, (6 << 20) - 4096);
    await changed.close();
    await ckpt.push('m1', src);
    // damage the old copy behind the local record's back: the record still vouches for the file
    const damaged = path.join(dst, 'pages-1.img');
    const handle = await open(damaged, 'r+');
    await handle.write(seededBytes(4096, 77), 0, 4096, 8192);
    await handle.close();
    const recordPath = recordOf(dst);
    const record = await readFile(recordPath);
    const cut = record.indexOf(10);
    const header = JSON.parse(record.subarray(0, cut).toString());
    header.stamps['pages-1.img'] = stampOf(await lstat(damaged, { bigint: true }));
    await writeFile(recordPath, Buffer.concat([Buffer.from(JSON.stringify(header)), record.subarray(cut)]));
    const pulled = await ckpt.pull('m1', dst);
    expect(pulled.chunksReused).toBeGreaterThan(0);
    expect(pulled.bytesTransferred).toBeGreaterThan(4096);
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('expectLatest turns a concurrent commit into a Conflict', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const a = await ckpt.push('m1', src);
    await ckpt.push('m1', src, { labels: { by: 'another writer' } });
    await expect(ckpt.push('m1', src, { expectLatest: a.generation })).rejects.toMatchObject({
      code: 'Conflict',
    });
  });

  it('pulls a llmux 0.7 checkpoint (plain objects under <model>/images/)', async () => {
    await store.put('llama/images/pages-1.img', seededBytes(100_000, 5));
    await store.put('llama/images/inventory.img', Buffer.from('inv'));
    expect(await ckpt.exists('llama')).toBe(true);
    const dst = path.join(work, 'dst');
    const result = await ckpt.pull('llama', dst);
    expect(result.legacy).toBe(true);
    expect(Object.keys(await readTree(dst))).toEqual(['inventory.img', 'pages-1.img']);
  });
});

describe('resilience', () => {
  it('a pack read that breaks mid-body resumes after what it delivered: never a chunk twice', async () => {
    const src = path.join(work, 'src');
    await mkdir(src);
    await writeFile(
      path.join(src, 'pages-1.img'),
      Buffer.concat([seededBytes(10 << 20, 3), Buffer.alloc(256 << 10)]),
    );
    await writeFile(path.join(src, 'core-1.img'), seededBytes(3000, 4));
    await utimes(path.join(src, 'pages-1.img'), 1_700_000_000, 1_700_000_000);
    const CUT_AT = 5 << 19; // 2.5 MiB
    const cuts: { key: string; offset: number; length: number }[] = [];
    const asked: { key: string; offset: number; length?: number }[] = [];
    /** A backend that cuts the first two large ranged reads of packs after 2.5 MiB of body, with a retryable error. */
    class CutBodies extends MemoryBackend {
      cutting = false;
      override async get(key: string, options: BackendGetOptions): Promise<GetResult> {
        const got = await super.get(key, options);
        if (!key.startsWith('ckpt/packs/')) return got;
        asked.push({ key, ...options.range! });
        if (!this.cutting || got.range.length < 3 << 20 || cuts.length >= 2) return got;
        cuts.push({ key, ...got.range });
        const inner = got.body;
        async function* cut() {
          let passed = 0;
          for await (const piece of inner as AsyncIterable<Buffer>) {
            const room = CUT_AT - passed;
            if (piece.length >= room) {
              yield piece.subarray(0, room);
              inner.destroy();
              throw new StoreError('Unavailable', 'connection reset', { operation: 'get', key });
            }
            passed += piece.length;
            yield piece;
          }
        }
        return { ...got, body: Readable.from(cut(), { objectMode: false }) };
      }
    }
    const backend = new CutBodies();
    const cutStore = new BackendStore(backend, { retry: { baseDelayMs: 1 } });
    const writer = new Checkpoints(cutStore, { ...small, packSize: 8 << 20 });
    await writer.push('m1', src);
    const whole = await writer.pull('m1', path.join(work, 'whole'));
    await writer.close();
    const reads = asked.splice(0).length;
    backend.cutting = true;
    const reader = new Checkpoints(cutStore, small);
    const dst = path.join(work, 'dst');
    const pulled = await reader.pull('m1', dst);
    await reader.close();
    expect(cuts).toHaveLength(2);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect(microseconds(await stat(path.join(dst, 'pages-1.img'), { bigint: true }))).toBe(
      1_700_000_000_000_000n,
    );
    // each cut read went on with a read of exactly what it had not delivered
    for (const { key, offset, length } of cuts) {
      expect(asked).toContainEqual({ key, offset: offset + CUT_AT, length: length - CUT_AT });
    }
    expect(asked).toHaveLength(reads + 2);
    // resumed, not restarted: not a byte more crossed the wire than in a pull without cuts
    expect(pulled.bytesTransferred).toBe(whole.bytesTransferred);
  });

  it('push and pull succeed through transient errors and truncated streams, byte-exact', async () => {
    const flaky = withFaults(store.backend, {
      seed: 42,
      errorRate: 0.2,
      truncateRate: 0.3,
      truncateCode: 'Unavailable',
    });
    const resilient = new Checkpoints(
      new BackendStore(flaky, { retry: { attempts: 10, baseDelayMs: 1, maxDelayMs: 5 } }),
      small,
    );
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await resilient.push('m1', src);
    const dst = path.join(work, 'dst');
    await resilient.pull('m1', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect(flaky.injected.errors).toBeGreaterThan(0);
    expect(flaky.injected.truncations).toBeGreaterThan(0);
    await resilient.close();
  });
});

describe('deduplication across models', () => {
  it('dedupWith reuses chunks of other models, which then survive their deletion', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('base', src);
    const alone = await ckpt.push('copy-a', src);
    expect(alone.chunksNew).toBeGreaterThan(0);
    const shared = await ckpt.push('copy-b', src, { dedupWith: ['*'] });
    expect(shared.chunksNew).toBe(0);
    expect(shared.bytesTransferred).toBeLessThan(64 * 1024);
    await ckpt.delete('base', { all: true });
    await ckpt.delete('copy-a', { all: true });
    await ckpt.gc({ grace: 0 });
    const dst = path.join(work, 'dst');
    await ckpt.pull('copy-b', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
  });
});
