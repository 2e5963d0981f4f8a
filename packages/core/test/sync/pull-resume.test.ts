// A pull that stops (aborted, a network failure) leaves its staging tree for the next pull of the
// same destination, which reads what it needs from it, every chunk checked. Imports the BUILT
// package: the chunker runs in worker threads.
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, readTree, seededBytes, useTempDir } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../dist/exports/testing.js';
import {
  Checkpoints,
  type GetOptions,
  type GetResult,
  type ObjectStore,
  StoreError,
  StoreLayer,
  withEvents,
} from '../../dist/index.js';
import { statePath } from '../../src/sync/local-state.js';
import { adoptStagingTrees, createStaging, releaseTrees, removeTrees } from '../../src/sync/pull-resume.js';
import { readManifestBytes } from '../../src/sync/stored-generations.js';
import { SMALL_CHUNKING } from './small-chunking.js';

const stateDir = process.env.CKPT_STATE_DIR!;
const tempDir = useTempDir('ckpt-resume-');
const options = { chunking: SMALL_CHUNKING, packSize: 256 << 10 };
let work: string;
let store: MemoryStore;
let src: string;
let dst: string;
const open: Checkpoints[] = [];

beforeEach(async () => {
  work = await tempDir();
  store = new MemoryStore();
  src = await makeCheckpoint(path.join(work, 'src'), { pagesScale: 2 });
  dst = path.join(work, 'dst');
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

/**
 * A `Checkpoints` over `over` (default: the store) that counts the bytes its reads receive, and
 * of them those of packs.
 */
function counted(over: ObjectStore = store) {
  const counter = { bytes: 0, packBytes: 0 };
  const ckpt = new Checkpoints(
    withEvents(over, (e) => {
      if (e.op !== 'get') return;
      counter.bytes += e.bytes;
      if (e.key.startsWith('ckpt/packs/')) counter.packBytes += e.bytes;
    }),
    options,
  );
  open.push(ckpt);
  return { ckpt, counter };
}

/** Pulls `model` into `dst`, aborted once its reads have received `bytes` (default: the first pack read). */
async function pullStopped(bytes = 1, generation?: string) {
  const controller = new AbortController();
  const counter = { bytes: 0 };
  const ckpt = new Checkpoints(
    withEvents(store, (e) => {
      if (e.op !== 'get') return;
      counter.bytes += e.bytes;
      if (e.key.startsWith('ckpt/packs/') && counter.bytes >= bytes) controller.abort();
    }),
    options,
  );
  open.push(ckpt);
  const err = await ckpt.pull('m', dst, { signal: controller.signal, generation }).catch((e) => e);
  expect(StoreError.is(err, 'Aborted')).toBe(true);
  return counter.bytes;
}

/** What is beside the destination, and the records of its staging trees in the state directory. */
async function leftovers() {
  const beside = (await readdir(work)).filter((n) => n.startsWith('.dst.ckpt-'));
  const prefix = path.basename(statePath(stateDir, dst, 'pull-'));
  const records = (await readdir(path.join(stateDir, 'dirs'))).filter((n) => n.startsWith(prefix));
  return { beside, records };
}

/** Bytes a fresh pull of the latest generation reads. */
async function freshPullBytes(): Promise<number> {
  const { ckpt, counter } = counted();
  await ckpt.pull('m', path.join(work, 'fresh'));
  await rm(path.join(work, 'fresh'), { recursive: true });
  return counter.bytes;
}

describe('a stopped pull is resumed', () => {
  it('aborted half-way: the rerun reads at most the rest plus one read, the tree is exact', async () => {
    await new Checkpoints(store, options).push('m', src);
    const total = await freshPullBytes();
    const first = await pullStopped(total / 2);
    expect(first).toBeLessThan(total);
    const kept = await leftovers();
    expect(kept.beside).toHaveLength(1);
    expect(kept.records).toHaveLength(1);

    const { ckpt, counter } = counted();
    const rerun = await ckpt.pull('m', dst);
    expect(rerun.chunksResumed).toBeGreaterThan(0);
    expect(rerun.chunksReused).toBe(rerun.chunksResumed);
    // both together read no more than one pull plus one 8 MiB read (the manifest twice, the
    // chunks each read in flight was receiving when it stopped)
    expect(first + counter.bytes).toBeLessThanOrEqual(total + (8 << 20));
    expect(counter.bytes).toBeLessThan(total - first / 2);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
    expect((await ckpt.verify('m')).ok).toBe(true);
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });

  it('a chunk damaged in the staging tree is downloaded again; nothing else is', async () => {
    await new Checkpoints(store, options).push('m', src);
    await pullStopped((await freshPullBytes()) / 2);
    const [tree] = (await leftovers()).beside;
    const [record] = (await leftovers()).records;
    const saved = path.join(work, 'saved');
    await cp(path.join(work, tree!), saved, { recursive: true });
    await cp(path.join(stateDir, 'dirs', record!), `${saved}.record`);

    // the same staging tree twice: as left, then with one byte of pages-1.img flipped
    const intact = await counted().ckpt.pull('m', dst);
    await rm(dst, { recursive: true });
    await rm(path.join(stateDir, 'dirs'), { recursive: true });
    await mkdir(path.join(stateDir, 'dirs'));
    await cp(saved, path.join(work, tree!), { recursive: true });
    await cp(`${saved}.record`, path.join(stateDir, 'dirs', record!));
    const pages = path.join(work, tree!, 'pages-1.img');
    const bytes = await readFile(pages);
    bytes[1000] = bytes[1000]! ^ 1;
    await writeFile(pages, bytes);
    const damaged = await counted().ckpt.pull('m', dst);

    expect(intact.chunksResumed).toBeGreaterThan(1);
    expect(damaged.chunksResumed).toBe(intact.chunksResumed - 1);
    expect(damaged.chunksNew).toBe(intact.chunksNew + 1);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
  });

  it('chunks a staging tree holds are never downloaded again, even between chunks it lacks', async () => {
    const { generation } = await new Checkpoints(store, options).push('m', src);
    // a staging tree that holds every file but every other small one (each small file is one
    // chunk; neighbours in the same pack)
    const { manifest } = await readManifestBytes(store, 'm', generation);
    const own = await createStaging(
      stateDir,
      dst,
      { store: store.name, model: 'm', generation, manifest },
      undefined,
    );
    await cp(src, own.path, { recursive: true, preserveTimestamps: true });
    releaseTrees([own]);
    let missing = 0;
    for (let i = 0; i < 20; i += 2) {
      const file = path.join(own.path, `core-${100 + i}.img`);
      missing += (await stat(file)).size;
      await rm(file);
    }
    const { ckpt, counter } = counted();
    const pulled = await ckpt.pull('m', dst);
    expect(counter.packBytes).toBe(missing);
    expect(pulled.chunksNew).toBe(10);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
  });

  it('a stopped pull of one generation serves the pull of another: chunks are named by their hash', async () => {
    const writer = new Checkpoints(store, options);
    const old = await writer.push('m', src);
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(700 << 10, 99));
    await writer.push('m', src);
    await pullStopped((await freshPullBytes()) * 0.6, old.generation);
    const { ckpt } = counted();
    const latest = await ckpt.pull('m', dst);
    expect(latest.chunksResumed).toBeGreaterThan(0);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });

  it('never cuts short a staging file that is a hard link to a file of the current tree', async () => {
    const writer = new Checkpoints(store, options);
    await writer.push('m', src);
    await new Checkpoints(store, options).pull('m', dst);
    const before = await readTree(dst, { times: true });
    // the stopped pull hard-links the unchanged pages-1.img; that changes its status, so the
    // rerun no longer trusts the current tree's copy, and reads it through the staging tree
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(6 << 20, 98));
    await writer.push('m', src);
    await pullStopped();
    const [tree] = (await leftovers()).beside;
    expect((await stat(path.join(work, tree!, 'pages-1.img'))).nlink).toBe(2);
    // the rerun fails once its local copies are done: the current tree must be as it was
    class FailingReads extends StoreLayer {
      override async get(key: string, opts?: GetOptions): Promise<GetResult> {
        if (!key.startsWith('ckpt/packs/')) return this.inner.get(key, opts);
        throw new StoreError('PermissionDenied', 'access denied', { operation: 'get', key });
      }
    }
    const failing = new Checkpoints(new FailingReads(store), options);
    open.push(failing);
    await expect(failing.pull('m', dst)).rejects.toMatchObject({ code: 'PermissionDenied' });
    expect(await readTree(dst, { times: true })).toEqual(before);
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });
});

describe('what is kept and what is removed', () => {
  it('a network failure the store gave up on keeps the tree for the next pull', async () => {
    await new Checkpoints(store, options).push('m', src);
    let reads = 0;
    class Unreachable extends StoreLayer {
      override async get(key: string, opts?: GetOptions): Promise<GetResult> {
        if (key.startsWith('ckpt/packs/') && ++reads > 8)
          throw new StoreError('Unavailable', 'connection reset', { operation: 'get', key });
        return this.inner.get(key, opts);
      }
    }
    const failing = new Checkpoints(new Unreachable(store), options);
    open.push(failing);
    await expect(failing.pull('m', dst)).rejects.toMatchObject({ code: 'Unavailable', retryable: true });
    expect((await leftovers()).beside).toHaveLength(1);
    const rerun = await counted().ckpt.pull('m', dst);
    expect(rerun.chunksResumed).toBeGreaterThan(0);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });

  it('an Integrity failure removes the pull’s own tree and the one it adopted', async () => {
    await new Checkpoints(store, options).push('m', src);
    await pullStopped();
    for await (const { key } of store.list('ckpt/packs/')) {
      const got = await store.get(key);
      const chunks: Buffer[] = [];
      for await (const c of got.body) chunks.push(c as Buffer);
      const data = Buffer.concat(chunks);
      data[data.length - 1] = data[data.length - 1]! ^ 0xff;
      await store.put(key, data);
    }
    const err = await counted()
      .ckpt.pull('m', dst)
      .catch((e) => e);
    expect(StoreError.is(err, 'Integrity')).toBe(true);
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });

  it('a pull with nothing to do removes what stopped pulls left; a dry run keeps it', async () => {
    const { generation } = await new Checkpoints(store, options).push('m', src);
    await new Checkpoints(store, options).pull('m', dst);
    // as a pull of this process that failed leaves it
    const { manifest } = await readManifestBytes(store, 'm', generation);
    releaseTrees([
      await createStaging(stateDir, dst, { store: store.name, model: 'm', generation, manifest }, undefined),
    ]);
    await counted().ckpt.pull('m', dst, { dryRun: true });
    expect((await leftovers()).beside).toHaveLength(1);
    const same = await counted().ckpt.pull('m', dst);
    expect(same.upToDate).toBe(true);
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });

  it('a staging tree of another store is removed, never read', async () => {
    await new Checkpoints(store, options).push('m', src);
    await pullStopped();
    const other = new MemoryStore('memory://other');
    await new Checkpoints(other, options).push('m', src);
    const pulled = await counted(other).ckpt.pull('m', dst);
    expect(pulled.chunksResumed).toBe(0);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect(await leftovers()).toEqual({ beside: [], records: [] });
  });
});

describe('who adopts a staging tree', () => {
  const stopOnePull = async () => {
    await new Checkpoints(store, options).push('m', src);
    await pullStopped();
  };

  it('only one of two pulls that look at once', async () => {
    await stopOnePull();
    const [a, b] = await Promise.all([
      adoptStagingTrees(stateDir, dst, store.name),
      adoptStagingTrees(stateDir, dst, store.name),
    ]);
    expect(a.length + b.length).toBe(1);
    // while it is owned, nobody else takes it
    expect(await adoptStagingTrees(stateDir, dst, store.name)).toEqual([]);
    releaseTrees([...a, ...b]);
    const again = await adoptStagingTrees(stateDir, dst, store.name);
    expect(again).toHaveLength(1);
    await removeTrees(stateDir, dst, again);
    releaseTrees(again);
  });

  it('never one a running process owns, and a running pull’s tree is not removed', async () => {
    await stopOnePull();
    const [tree] = (await leftovers()).beside;
    const [record] = (await leftovers()).records;
    // as if the parent of this process had claimed it
    const live = record!.replace(/\.by-\d+$/, `.by-${process.ppid}`);
    await rename(path.join(stateDir, 'dirs', record!), path.join(stateDir, 'dirs', live));
    const pulled = await counted().ckpt.pull('m', dst);
    expect(pulled.chunksResumed).toBe(0);
    expect((await leftovers()).beside).toEqual([tree]);
    await rm(path.join(work, tree!), { recursive: true });
    await rm(path.join(stateDir, 'dirs', live));
  });

  it('a staging tree of this process’s own running pull is not adopted', async () => {
    const { generation } = await new Checkpoints(store, options).push('m', src);
    const { manifest } = await readManifestBytes(store, 'm', generation);
    const holds = { store: store.name, model: 'm', generation, manifest };
    const own = await createStaging(stateDir, dst, holds, undefined);
    expect((await leftovers()).beside).toEqual([path.basename(own.path)]);
    expect(await adoptStagingTrees(stateDir, dst, store.name)).toEqual([]);
    releaseTrees([own]);
    const adopted = await adoptStagingTrees(stateDir, dst, store.name);
    expect(adopted).toHaveLength(1);
    await removeTrees(stateDir, dst, adopted);
    releaseTrees(adopted);
  });
});
