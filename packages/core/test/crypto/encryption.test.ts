// Client-side encryption through the engine on a memory store: what lands in the store, what a
// wrong, missing or extra key does, and that tampering of any kind fails. Imports the BUILT package.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, plaintextRuns, readTree, useTempDir } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import {
  Checkpoints,
  type ObjectStore,
  rotateEncryptionKey,
  StoreMetrics,
  withEvents,
} from '../../dist/index.js';

const KEY = 'correct horse battery staple';
const OTHER_KEY = 'another sixteen-byte passphrase';
const tempDir = useTempDir('ckpt-encryption-');
const opened: Checkpoints[] = [];
let stateDir: string;
beforeEach(async () => {
  stateDir = await tempDir();
});
const checkpoints = (store: ObjectStore, key: string | null = KEY) => {
  const c = new Checkpoints(store, { packSize: 1 << 20, stateDir, ...(key ? { encryption: { key } } : {}) });
  opened.push(c);
  return c;
};
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});

/** Every object of the store, as stored. */
async function rawObjects(store: ObjectStore): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>();
  for await (const meta of store.list(''))
    out.set(meta.key, await readAll((await store.get(meta.key)).body, 1 << 30));
  return out;
}

async function filesOf(dir: string): Promise<Buffer[]> {
  const names = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(names.filter((e) => e.isFile()).map((e) => readFile(path.join(e.parentPath, e.name))));
}

async function pushed(key: string | null = KEY) {
  const work = await tempDir();
  const src = await makeCheckpoint(path.join(work, 'src'));
  const store = new MemoryStore();
  const result = await checkpoints(store, key).push('m', src);
  return { work, src, store, result };
}

const rejection = (promise: Promise<unknown>) =>
  promise.then(
    () => undefined,
    (err: unknown) => err,
  );

describe('an encrypted store', () => {
  it('holds no 64-byte run of any pushed file, yet pulls and verifies exactly', async () => {
    const { work, src, store, result } = await pushed();
    const objects = await rawObjects(store);
    expect([...objects.keys()].filter((k) => k.startsWith('ckpt/packs/')).length).toBeGreaterThan(1);
    expect(plaintextRuns(await filesOf(src), [...objects.values()])).toBe(0);
    // the same check finds the runs of a plain store: it can fail
    const plain = await pushed(null);
    expect(
      plaintextRuns(await filesOf(plain.src), [...(await rawObjects(plain.store)).values()]),
    ).toBeGreaterThan(1000);
    // the record names the parameters, never the data key in the clear
    const record = JSON.parse(objects.get('ckpt/store.json')!.toString());
    expect(record).toMatchObject({
      format: 'ckpt-store/2',
      encryption: { cipher: 'aes-256-gcm', kdf: { name: 'scrypt' } },
    });
    expect(record.encryption.keys).toHaveLength(1);

    const reader = checkpoints(store);
    await reader.pull('m', path.join(work, 'dst'));
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(src));
    expect((await reader.verify('m')).bytes).toBe(result.bytes);
    const [info] = await reader.generations('m');
    expect(info).toMatchObject({ files: 27, bytes: result.bytes });
    expect(await reader.exists('m')).toBe(true);
    // a second push of the same data stores nothing new: dedup works under encryption
    const again = await checkpoints(store).push('n', src, { dedupWith: ['m'] });
    expect(again).toMatchObject({ chunksNew: 0, chunksReused: result.chunksNew });
  });

  it("ls and exists read a manifest's lead with one ranged read: its digest is stored encrypted", async () => {
    const { store, result } = await pushed();
    const key = `ckpt/models/m/${result.generation}.json`;
    const lead = (await store.head(key)).metadata?.['ckpt-lead'];
    expect(lead).toBeDefined();
    expect(lead).not.toMatch(/^\d+:[0-9a-f]{64}$/);
    const metrics = new StoreMetrics();
    const ckpt = checkpoints(withEvents(store, metrics.listener));
    expect(await ckpt.exists('m')).toBe(true);
    expect((await ckpt.generations('m'))[0]).toMatchObject({ generation: result.generation, files: 27 });
    const { ops, bytesIn } = metrics.snapshot();
    // the record once, then one ranged read of the manifest's first block per operation
    expect(ops.get?.count).toBe(3);
    expect(bytesIn).toBeLessThan(2 * (64 * 1024 + 28) + 1024);
  });

  it('a push stopped half-way is resumed: the rerun reuses the encrypted packs that landed', async () => {
    const work = await tempDir();
    const src = await makeCheckpoint(path.join(work, 'src'));
    const store = new MemoryStore();
    const controller = new AbortController();
    let landed = 0;
    const counting = withEvents(store, (e) => {
      if (e.op !== 'put' || !e.key.startsWith('ckpt/packs/') || e.error) return;
      landed += e.bytes;
      if (landed >= 2 << 20) controller.abort();
    });
    const stopped = await rejection(checkpoints(counting).push('m', src, { signal: controller.signal }));
    expect(stopped).toMatchObject({ code: 'Aborted' });
    const result = await checkpoints(store).push('m', src);
    expect(result.bytesResumed).toBeGreaterThanOrEqual(2 << 20);
    expect((await checkpoints(store).verify('m')).ok).toBe(true);
    await checkpoints(store).pull('m', path.join(work, 'dst'));
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(src));
  });

  it('refuses a missing key, a wrong key, and a key for a plain store, each with one clear error', async () => {
    const { store } = await pushed();
    for (const [key, code, message] of [
      [null, 'PermissionDenied', 'the store is encrypted and no encryption key was given'],
      [OTHER_KEY, 'PermissionDenied', 'the encryption key does not open this store (wrong key)'],
      ['short', 'InvalidArgument', 'the encryption key (encryption.key) is shorter than 16 bytes'],
    ] as const) {
      const err = await rejection(
        Promise.resolve().then(() => checkpoints(store, key).pull('m', '/nonexistent/dst')),
      );
      expect(err, String(key)).toMatchObject({ code, operation: 'encryption key' });
      expect((err as Error).message, String(key)).toBe(`encryption key: ${message}`);
    }
    const plain = await pushed(null);
    for (const run of [(c: Checkpoints) => c.list(), (c: Checkpoints) => c.push('m', plain.src)]) {
      const err = await rejection(run(checkpoints(plain.store)));
      expect(err).toMatchObject({ code: 'InvalidArgument', operation: 'encryption key' });
    }
  });

  it("a wrong key fails every operation with the key's error and writes nothing, though listings run while it is derived", async () => {
    const { store, src, work } = await pushed();
    const writes: string[] = [];
    const watched = withEvents(store, (e) => {
      if (e.op === 'put' || e.op === 'delete' || e.op === 'deleteMany') writes.push(`${e.op} ${e.key}`);
    });
    const operations: [string, (c: Checkpoints) => Promise<unknown>][] = [
      ['push', (c) => c.push('m', src)],
      ['push of a new model', (c) => c.push('other', src)],
      ['pull', (c) => c.pull('m', path.join(work, 'dst'))],
      ['pull of a missing model', (c) => c.pull('missing', path.join(work, 'dst'))],
      ['exists of a missing model', (c) => c.exists('missing')],
      ['ls', (c) => c.list()],
      ['delete', (c) => c.delete('m', { all: true })],
      ['gc', (c) => c.gc({ keep: 0, all: true, grace: 0 })],
      ['verify', (c) => c.verify('m')],
    ];
    for (const [name, run] of operations) {
      const err = await rejection(run(checkpoints(watched, OTHER_KEY)));
      expect(err, name).toMatchObject({ code: 'PermissionDenied', operation: 'encryption key' });
    }
    expect(writes).toEqual([]);
    await expect(readdir(path.join(work, 'dst'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a plain store without a record (an older ckpt wrote it) never becomes encrypted', async () => {
    const plain = await pushed(null);
    await plain.store.delete('ckpt/store.json');
    const err = await rejection(checkpoints(plain.store).push('m', plain.src));
    expect(err).toMatchObject({ code: 'InvalidArgument', operation: 'encryption key' });
    expect((await rawObjects(plain.store)).has('ckpt/store.json')).toBe(false);
  });

  it('fails with Integrity on a flipped byte, a truncated pack, packs swapped, a manifest moved', async () => {
    const { work, store, src } = await pushed();
    const packs = [...(await rawObjects(store)).entries()].filter(([k]) => k.startsWith('ckpt/packs/'));
    const [[keyA, a], [keyB, b]] = packs as [[string, Buffer], [string, Buffer]];
    const attempts: [string, () => Promise<unknown>][] = [
      ['flipped byte', () => put(store, keyA, flip(a, 70_000))],
      ['cut at a block boundary', () => put(store, keyA, a.subarray(0, 65_536 + 28))],
      ['cut inside a block', () => put(store, keyA, a.subarray(0, a.length - 5))],
      ['packs swapped', () => Promise.all([put(store, keyA, b), put(store, keyB, a)])],
    ];
    for (const [name, damage] of attempts) {
      await damage();
      const verified = await checkpoints(store).verify('m');
      expect(verified.ok, name).toBe(false);
      expect(verified.problems.map((p) => p.problem).join('\n'), name).toMatch(
        /does not decrypt|does not match/,
      );
      const dst = path.join(work, `dst-${name}`);
      expect(await rejection(checkpoints(store).pull('m', dst)), name).toMatchObject({ code: 'Integrity' });
      await Promise.all([put(store, keyA, a), put(store, keyB, b)]);
    }
    expect((await checkpoints(store).verify('m')).ok).toBe(true);

    // a manifest copied under another model's name does not decrypt there
    const [manifestKey, manifest] = [...(await rawObjects(store)).entries()].find(([k]) =>
      k.startsWith('ckpt/models/'),
    )!;
    await put(store, manifestKey.replace('/m/', '/x/'), manifest);
    expect(await rejection(checkpoints(store).pull('x', path.join(work, 'x')))).toMatchObject({
      code: 'Integrity',
    });
    await checkpoints(store).pull('m', path.join(work, 'ok'));
    expect(await readTree(path.join(work, 'ok'))).toEqual(await readTree(src));
  });

  it('rotating the key rewraps the data key: the new key opens the store, the old one no longer does', async () => {
    const { work, store, src } = await pushed();
    const before = await rawObjects(store);
    await rotateEncryptionKey(store, { key: KEY, newKey: OTHER_KEY });
    const after = await rawObjects(store);
    for (const [key, bytes] of before)
      if (key !== 'ckpt/store.json') expect(after.get(key)?.equals(bytes), key).toBe(true);
    expect(await rejection(checkpoints(store, KEY).list())).toMatchObject({ code: 'PermissionDenied' });
    await checkpoints(store, OTHER_KEY).pull('m', path.join(work, 'dst'));
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(src));
    expect(await rejection(rotateEncryptionKey(store, { key: KEY, newKey: OTHER_KEY }))).toMatchObject({
      code: 'PermissionDenied',
    });
  });
});

function put(store: ObjectStore, key: string, bytes: Buffer) {
  return store.put(key, bytes, { size: bytes.length });
}

function flip(bytes: Buffer, at: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[at]! ^= 1;
  return copy;
}
