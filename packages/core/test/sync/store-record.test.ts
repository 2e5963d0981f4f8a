// The store's record (ckpt/store.json): written once by the first push, read before anything
// else by every operation, its chunking parameters used by every push. Imports the BUILT package.
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCheckpoint, readTree } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import {
  type Capabilities,
  Checkpoints,
  type ObjectStore,
  StoreLayer,
  withEvents,
} from '../../dist/index.js';

const RECORD = 'ckpt/store.json';
/** Chunking other than the default, so that a test can tell which parameters a push used. */
const FINE = { minSize: 4096, avgSize: 16384, maxSize: 65536, zeroRunMin: 65536 };

let work: string;
let store: MemoryStore;
const opened: Checkpoints[] = [];
const checkpoints = (s: ObjectStore = store, options = {}) => {
  const c = new Checkpoints(s, { packSize: 1 << 20, ...options });
  opened.push(c);
  return c;
};
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-store-record-'));
  store = new MemoryStore();
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await rm(work, { recursive: true, force: true });
});

const recordText = async (s = store) => (await readAll((await s.get(RECORD)).body)).toString();
const putRecord = (value: unknown) => {
  const body = Buffer.from(typeof value === 'string' ? value : JSON.stringify(value));
  return store.put(RECORD, body, { size: body.length });
};
const chunkingOf = async (s: MemoryStore, model: string, generation?: string) => {
  generation ??= (await checkpoints(s).generations(model))[0]!.generation;
  const key = `ckpt/models/${model}/${generation}.json`;
  return JSON.parse((await readAll((await s.get(key)).body)).toString()).chunking;
};

/** The store, and every request that reached it, as `op key`. */
function requests(inner: ObjectStore) {
  const seen: string[] = [];
  return { store: withEvents(inner, (e) => seen.push(`${e.op} ${e.key}`)), seen };
}

/** A store that cannot enforce create-only puts (as S3 without conditional writes). */
class NoConditionalCreate extends StoreLayer {
  override get capabilities(): Readonly<Capabilities> {
    return { ...this.inner.capabilities, conditionalCreate: false };
  }
}

describe('the store record', () => {
  it('is written by the first push with its chunking parameters, once, and read once per instance', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const { store: seen, seen: requested } = requests(store);
    const ckpt = checkpoints(seen, { chunking: FINE });
    await ckpt.push('m', src);
    const written = await recordText();
    expect(JSON.parse(written)).toEqual({
      format: 'ckpt-store/1',
      createdAt: expect.any(String),
      chunking: FINE,
    });
    // it comes before anything else; a later push on the same instance neither reads nor writes it
    expect(requested.slice(0, 2)).toEqual([`get ${RECORD}`, `put ${RECORD}`]);
    await ckpt.push('n', src);
    await ckpt.pull('m', path.join(work, 'dst'));
    expect(requested.filter((r) => r.endsWith(RECORD))).toHaveLength(2);
    expect(await recordText()).toBe(written);
  });

  it("a push uses the store's chunking parameters, not its own", async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await checkpoints(store, { chunking: FINE }).push('m', src);
    // a copy, which no local record vouches for: every file is read and cut again
    const copy = path.join(work, 'copy');
    await cp(src, copy, { recursive: true });
    const pushed = await checkpoints(store).push('m', copy, { labels: { copy: 'yes' } });
    const [, second] = await checkpoints(store).generations('m');
    expect(await chunkingOf(store, 'm', second!.generation)).toEqual(FINE);
    // cut alike, so every chunk is the first generation's
    expect(pushed.chunksNew).toBe(0);
    expect(pushed.chunksReused).toBeGreaterThan(0);
    // and a pull on an instance configured otherwise gets it back
    await checkpoints(store, { chunking: { ...FINE, avgSize: 1 << 20, maxSize: 4 << 20 } }).pull(
      'm',
      path.join(work, 'dst'),
    );
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(copy));
  });

  it.each([
    ['a store that enforces create-only puts', (s: MemoryStore) => s],
    ['a store that cannot', (s: MemoryStore) => new NoConditionalCreate(s)],
  ])('two first pushes racing agree on one record (%s)', async (_, wrap) => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const a = checkpoints(wrap(store), { chunking: FINE });
    const b = checkpoints(wrap(store));
    await Promise.all([a.push('a', src), b.push('b', src)]);
    const recorded = JSON.parse(await recordText()).chunking;
    expect(await chunkingOf(store, 'a')).toEqual(recorded);
    expect(await chunkingOf(store, 'b')).toEqual(recorded);
  });

  it('a store without a record (written before records) keeps working; its next push adds one', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await checkpoints().push('m', src);
    await store.delete(RECORD);
    const { store: seen, seen: requested } = requests(store);
    const ckpt = checkpoints(seen);
    expect((await ckpt.list()).map((m) => m.model)).toEqual(['m']);
    expect(await ckpt.exists('m')).toBe(true);
    expect((await ckpt.verify('m')).ok).toBe(true);
    await ckpt.pull('m', path.join(work, 'dst'));
    await ckpt.gc({ grace: 0 });
    // reads never write it
    expect(requested.filter((r) => r.endsWith(RECORD))).toEqual([`get ${RECORD}`]);
    expect(await store.head(RECORD).catch((e) => e.code)).toBe('NotFound');
    await ckpt.push('m', src);
    expect(JSON.parse(await recordText()).format).toBe('ckpt-store/1');
  });

  it('a record of a newer format is refused by every operation before anything else is read or written', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    await checkpoints().push('m', src);
    await putRecord({ format: 'ckpt-store/3', createdAt: 'x', sealed: true });
    const operations: [string, (c: Checkpoints) => Promise<unknown>][] = [
      ['push', (c) => c.push('m', src)],
      ['pull', (c) => c.pull('m', path.join(work, 'dst'))],
      ['exists', (c) => c.exists('m')],
      ['list', (c) => c.list()],
      ['generations', (c) => c.generations('m')],
      ['files', (c) => c.files('m')],
      ['verify', (c) => c.verify('m')],
      ['delete', (c) => c.delete('m', { all: true })],
      ['gc', (c) => c.gc({ grace: 0, keep: 0, all: true })],
    ];
    for (const [name, run] of operations) {
      const { store: seen, seen: requested } = requests(store);
      const err = await run(checkpoints(seen)).then(
        () => undefined,
        (e) => e,
      );
      expect(err, name).toMatchObject({ code: 'Unsupported', operation: 'open store', key: RECORD });
      expect(err.message).toBe(
        `open store ${RECORD}: the store was written by a newer ckpt (store format 3; this ckpt reads up to 2): upgrade ckpt`,
      );
      expect(requested, name).toEqual([`get ${RECORD}`]);
    }
    expect(
      await checkpoints()
        .generations('m')
        .catch((e) => e.code),
    ).toBe('Unsupported');
  });

  it.each([
    ['not JSON', '{"format":'],
    ['no format', { createdAt: 'x' }],
    ['a format of something else', { format: 'ckpt-manifest/2' }],
    ['a field missing', { format: 'ckpt-store/1', createdAt: 'x' }],
    [
      'chunking no push could use',
      { format: 'ckpt-store/1', createdAt: 'x', chunking: { ...FINE, avgSize: 10_000 } },
    ],
    ['too large to be one', 'x'.repeat(100_000)],
  ])('a damaged record (%s) fails with Integrity naming it', async (_, value) => {
    await putRecord(value);
    const err = await checkpoints()
      .list()
      .catch((e) => e);
    expect(err).toMatchObject({ code: 'Integrity', key: RECORD });
    expect(err.message).toMatch(/^open store ckpt\/store\.json: the store's record is damaged: /);
  });

  it('gc, delete and every listing leave the record alone', async () => {
    const src = path.join(work, 'src');
    await makeCheckpoint(src);
    const ckpt = checkpoints();
    await ckpt.push('m', src);
    await ckpt.push('org/n', src);
    const written = await recordText();
    const version = (await store.head(RECORD)).version;
    expect((await ckpt.list()).map((m) => m.model).sort()).toEqual(['m', 'org/n']);
    await ckpt.delete('m', { all: true });
    await ckpt.gc({ grace: 0, keep: 0, all: true });
    await ckpt.gc({ grace: 0 });
    expect((await store.head(RECORD)).version).toBe(version);
    expect(await recordText()).toBe(written);
    expect(await ckpt.list()).toEqual([]);
    await expect(ckpt.generations('m')).rejects.toMatchObject({ code: 'NotFound' });
  });
});
