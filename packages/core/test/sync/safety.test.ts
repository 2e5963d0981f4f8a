// What a pull may replace, where ckpt keeps its records, and gc against pushes in flight at any grace.
// Imports the BUILT package: the chunker runs in worker threads.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { makeCheckpoint, readTree, seededBytes } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, type PutBody, type PutOptions, StoreError, StoreLayer } from '../../dist/index.js';
import { SMALL_CHUNKING } from './small-chunking.js';

let work: string;
let store: MemoryStore;
let ckpt: Checkpoints;
const small = { chunking: SMALL_CHUNKING, packSize: 256 << 10 };
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-safety-'));
  store = new MemoryStore();
  ckpt = new Checkpoints(store, small);
});
afterEach(async () => {
  await ckpt.close();
  await rm(work, { recursive: true, force: true });
});

const keys = async (prefix = '') => {
  const out: string[] = [];
  for await (const m of store.list(prefix)) out.push(m.key);
  return out;
};
const manifestKeys = async () => (await keys('ckpt/models/')).filter((key) => key.endsWith('.json'));

function deferred() {
  let resolve: () => void = () => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** A store whose manifest commits wait until `release()` (a push paused just before its commit). */
class CommitGate extends StoreLayer {
  waiting = deferred();
  #gate = deferred();
  release = () => this.#gate.resolve();
  override async put(key: string, body: PutBody, options?: PutOptions) {
    if (key.startsWith('ckpt/models/')) {
      this.waiting.resolve();
      await this.#gate.promise;
    }
    return super.put(key, body, options);
  }
}

/** A store that takes a push's lease once and then cannot be reached to renew it. */
class NoRenewals extends StoreLayer {
  #leases = 0;
  override async put(key: string, body: PutBody, options?: PutOptions) {
    if (key.startsWith('ckpt/pushes/') && ++this.#leases > 1)
      throw new StoreError('Unavailable', 'unreachable', { operation: 'put', key });
    return super.put(key, body, options);
  }
}

describe('what a pull replaces', () => {
  it('refuses a directory with files ckpt did not write, names --force, and leaves it as it was', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const dst = path.join(work, 'dst');
    await mkdir(dst);
    await writeFile(path.join(dst, 'mine.txt'), 'hi');
    const err = await ckpt.pull('m', dst).catch((e) => e);
    expect(err).toMatchObject({ code: 'InvalidArgument' });
    expect(err.message).toMatch(/not empty and ckpt did not write it.*--force/);
    expect(await readTree(dst)).toEqual({ 'mine.txt': expect.objectContaining({ type: 'file' }) });
    expect((await readdir(work)).sort()).toEqual(['dst', 'src']);
    // a dry run says what a forced pull would do, and does nothing
    const dry = await ckpt.pull('m', dst, { dryRun: true });
    expect(dry.plan?.remove).toEqual(['mine.txt']);
    expect(dry.plan?.add).toContain('pages-1.img');
    expect(dry.plan?.change).toEqual([]);
    expect(await readFile(path.join(dst, 'mine.txt'), 'utf8')).toBe('hi');
    await ckpt.pull('m', dst, { force: true });
    expect(await readTree(dst)).toEqual(await readTree(src));
  });

  it('replaces an empty directory, and one it pulled or pushed itself', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const dst = path.join(work, 'dst');
    await mkdir(dst);
    await ckpt.pull('m', dst);
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(1000, 5));
    await ckpt.push('m', src);
    const plan = (await ckpt.pull('m', dst, { dryRun: true })).plan;
    expect(plan).toEqual({ add: [], change: ['pages-2.img'], remove: [] });
    await ckpt.pull('m', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
    // the pushed directory itself may be pulled over: ckpt wrote its record
    await ckpt.pull('m', src);
  });

  it('refuses the root, the home directory, the current directory and its parents, and empty paths', async () => {
    await makeCheckpoint(path.join(work, 'src'));
    await ckpt.push('m', path.join(work, 'src'));
    const cwd = process.cwd();
    for (const dir of ['/', homedir(), cwd, path.dirname(cwd), '', '  ']) {
      const err = await ckpt.pull('m', dir, { force: true }).catch((e) => e);
      expect(err, dir).toMatchObject({ code: 'InvalidArgument' });
    }
    await expect(ckpt.push('m', '')).rejects.toMatchObject({ code: 'InvalidArgument' });
  });

  it('a kill between the two renames of a swap: the next pull puts the old tree back and replaces it', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const first = await ckpt.push('m', src);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m', dst);
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(1000, 5));
    await ckpt.push('m', src);
    // as a kill leaves it: the old tree renamed aside, the new one not yet in place
    await rename(dst, path.join(work, '.dst.ckpt-old-0123456789ab'));
    await writeFile(path.join(work, 'stray'), 'not ours'); // a sibling that must stay
    const pulled = await ckpt.pull('m', dst);
    expect(pulled.generation).not.toBe(first.generation);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect((await readdir(work)).sort()).toEqual(['dst', 'src', 'stray']);
  });

  it('a kill between the two renames of a swap: the next push puts the old tree back and pushes it', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const dst = path.join(work, 'dst');
    await ckpt.push('m', src);
    await ckpt.pull('m', dst);
    const before = await readTree(dst);
    await rename(dst, path.join(work, '.dst.ckpt-old-0123456789ab'));
    await ckpt.push('m', dst);
    expect(await readTree(dst)).toEqual(before);
    expect((await readdir(work)).sort()).toEqual(['dst', 'src']);
  });

  it('removes staging trees of pulls whose process is gone, keeps those of live ones', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const dead = path.join(work, '.dst.ckpt-pull-999999999-0123456789ab');
    // a live process's (this process's own are known by the pulls it runs)
    const live = path.join(work, `.dst.ckpt-pull-${process.ppid}-0123456789ab`);
    await mkdir(dead);
    await mkdir(live);
    await ckpt.pull('m', path.join(work, 'dst'));
    const left = await readdir(work);
    expect(left).not.toContain(path.basename(dead));
    expect(left).toContain(path.basename(live));
  });

  it('a manifest rewritten in the store after a pull: the next pull yields exactly the new one', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const dst = path.join(work, 'dst');
    await ckpt.pull('m', dst);
    // someone with write access grows a file by a zero run and seals the manifest again
    const [key] = await manifestKeys();
    const { checksum: _old, ...manifest } = JSON.parse(
      (await readAll((await store.get(key!)).body)).toString(),
    );
    const file = manifest.entries.find((e: { path: string }) => e.path === 'pages-2.img');
    file.extents.push(-(1 << 20));
    file.size += 1 << 20;
    const checksum = createHash('sha256').update(JSON.stringify(manifest)).digest('hex');
    await store.put(key!, Buffer.from(JSON.stringify({ ...manifest, checksum })));
    const pulled = await ckpt.pull('m', dst);
    expect(pulled.upToDate).toBe(false);
    expect((await stat(path.join(dst, 'pages-2.img'))).size).toBe(file.size);
  });

  it('never stores its own records: pushing the parent of a pushed directory stores only its files', async () => {
    const src = path.join(work, 'parent', 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const pushed = await ckpt.push('parent', path.join(work, 'parent'));
    const dst = path.join(work, 'back');
    await ckpt.pull('parent', dst);
    expect(await readdir(dst)).toEqual(['src']);
    expect(pushed.files).toBe((await ckpt.pull('m', path.join(work, 'again'))).files);
  });
});

describe('gc against pushes in flight', () => {
  it('gc with grace 0 never removes the packs a push in flight wrote or reuses', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const base = await ckpt.push('m', src);
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(900 << 10, 42));
    const gate = new CommitGate(store);
    const pusher = new Checkpoints(gate, small);
    const pushing = pusher.push('m', src);
    await gate.waiting.promise; // every pack is written; the commit waits
    // the base generation goes away and its data is collected at once, as far as gc may
    await ckpt.delete('m', { generation: base.generation });
    const gc = await ckpt.gc({ grace: 0 });
    expect(gc.pushesInFlight).toBe(1);
    expect(gc.packsDeleted).toBe(0);
    gate.release();
    const pushed = await pushing;
    await pusher.close();
    expect(pushed.chunksReused).toBeGreaterThan(0);
    expect((await ckpt.verify('m')).ok).toBe(true);
    // once the push has ended, its lease is gone and only unreferenced data is collected
    expect(await keys('ckpt/pushes/')).toEqual([]);
    const after = await ckpt.gc({ grace: 0 });
    expect(after.pushesInFlight).toBe(0);
    expect((await ckpt.verify('m')).ok).toBe(true);
  });

  it('a push that could not renew its lease in time refuses to commit', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const cut = new Checkpoints(new NoRenewals(store), { ...small, leaseRenewMs: 20 });
    const err = await cut.push('m', src).catch((e) => e);
    await cut.close();
    expect(err).toMatchObject({ code: 'Conflict' });
    expect(err.message).toMatch(/could not renew its lease/);
    expect(await keys('ckpt/models/')).toEqual([]);
  });

  it('a lost pack of the latest generation is uploaded again by the next push', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const first = await ckpt.push('m', src);
    const [lost] = await keys('ckpt/packs/');
    await store.delete(lost!);
    expect((await ckpt.verify('m')).ok).toBe(false);
    const again = await ckpt.push('m', src);
    expect(again.generation).not.toBe(first.generation);
    expect(again.chunksNew).toBeGreaterThan(0);
    expect((await ckpt.verify('m')).ok).toBe(true);
    await expect(stat(path.join(work, 'src'))).resolves.toBeDefined();
  });

  it('rm and gc remove everything only when told all, and dry runs remove nothing', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const a = await ckpt.push('m', src);
    await expect(ckpt.delete('m')).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(ckpt.gc({ keep: 0 })).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await ckpt.delete('m', { all: true, dryRun: true })).toEqual({
      model: 'm',
      generations: [a.generation],
    });
    expect((await ckpt.gc({ keep: 0, all: true, dryRun: true })).expiredGenerations).toEqual([
      `m@${a.generation}`,
    ]);
    expect(await ckpt.exists('m')).toBe(true);
    await ckpt.gc({ keep: 0, all: true });
    expect(await ckpt.exists('m')).toBe(false);
  });
});

describe('manifests too large to hold', () => {
  /** Seals a manifest object the way ckpt writes it (checksum of its JSON, then the checksum). */
  const seal = (manifest: Record<string, unknown>) =>
    Buffer.from(
      JSON.stringify({
        ...manifest,
        checksum: createHash('sha256').update(JSON.stringify(manifest)).digest('hex'),
      }),
    );

  it('a manifest with more entries than the limit is refused before it is parsed', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await ckpt.push('m', src);
    const [key] = await manifestKeys();
    const { checksum: _c, ...manifest } = JSON.parse(
      (await readAll((await store.get(key!)).body)).toString(),
    );
    manifest.entries = Array.from({ length: 250_001 }, (_, i) => ({
      path: `d${i}`,
      type: 'dir',
      mode: 0o755,
      mtimeMs: 1,
    }));
    await store.put(key!, seal(manifest));
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const err = await ckpt.pull('m', path.join(work, 'dst')).catch((e) => e);
      expect(err).toMatchObject({ code: 'Integrity' });
      expect(err.message).toMatch(/more than 250000 entries/);
      expect(parse.mock.calls.some(([text]) => String(text).length > 1 << 20)).toBe(false);
    } finally {
      parse.mockRestore();
    }
  });

  it('ls and exists read only the head of a manifest, checked against its checksum', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const pushed = await ckpt.push('m', src);
    // without its summary key, ls reads the generation from the manifest
    await store.deleteMany((await keys('ckpt/models/')).filter((key) => key.endsWith('.summary')));
    const [info] = await ckpt.generations('m');
    expect(info).toMatchObject({ files: pushed.files, bytes: pushed.bytes, storedBytes: expect.any(Number) });
    const parse = vi.spyOn(JSON, 'parse');
    try {
      expect(await ckpt.exists('m')).toBe(true);
      await ckpt.list();
      const longest = Math.max(...parse.mock.calls.map(([text]) => String(text).length));
      const [key] = await manifestKeys();
      expect(longest).toBeLessThan((await store.head(key!)).size / 4);
    } finally {
      parse.mockRestore();
    }
    // a head that no longer matches the checksum is not believed: the whole manifest is read, and refused
    const [key] = await manifestKeys();
    const text = (await readAll((await store.get(key!)).body)).toString();
    await store.put(key!, Buffer.from(text.replace(/"files":\d+/, '"files":999')));
    await expect(ckpt.generations('m')).rejects.toMatchObject({ code: 'Integrity' });
    expect(await ckpt.exists('m')).toBe(false);
  });
});
