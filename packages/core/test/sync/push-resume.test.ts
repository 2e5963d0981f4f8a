// A push interrupted after half its packs landed: the next push of the directory reuses them
// (checked first), and gc can never delete one between that check and the commit. On the
// in-memory store; fs and S3 (MinIO), with a real SIGKILL of the CLI: packages/cli/test/push-resume.test.ts.
// Imports the BUILT package: the chunker runs in worker threads.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTree, seededBytes } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../dist/exports/testing.js';
import {
  Checkpoints,
  type CheckpointsOptions,
  type ObjectStore,
  type PutBody,
  type PutOptions,
  StoreLayer,
  withEvents,
} from '../../dist/index.js';
import { statePath } from '../../src/sync/local-state.js';

const PACK = 256 << 10;
const DATA = 4 << 20;

let work: string;
let store: MemoryStore;
let src: string;
const opened: Checkpoints[] = [];
const options = (): CheckpointsOptions => ({ packSize: PACK, stateDir: path.join(work, 'state') });
const checkpoints = (s: ObjectStore = store) => {
  const c = new Checkpoints(s, options());
  opened.push(c);
  return c;
};
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-resume-'));
  store = new MemoryStore();
  src = path.join(work, 'src');
  await mkdir(path.join(src, 'rootfs'), { recursive: true });
  await writeFile(path.join(src, 'pages-1.img'), seededBytes(DATA, 7));
  for (let i = 0; i < 20; i++) await writeFile(path.join(src, `rootfs/f${i}`), seededBytes(3000 + i, i));
});
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
  await rm(work, { recursive: true, force: true });
});

/** Bytes of pack puts that succeeded through the returned store. */
function countingPacks(inner: ObjectStore, onPack?: (total: number) => void) {
  const counted = { bytes: 0 };
  const wrapped = withEvents(inner, (e) => {
    if (e.op !== 'put' || !e.key.startsWith('ckpt/packs/') || e.error) return;
    counted.bytes += e.bytes;
    onPack?.(counted.bytes);
  });
  return { store: wrapped, counted };
}

/** The packs in the store: id → size. */
async function packs(s: ObjectStore = store): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const m of s.list('ckpt/packs/')) out.set(m.key, m.size);
  return out;
}
const sum = (sizes: Iterable<number>) => [...sizes].reduce((a, b) => a + b, 0);

/** Pushes `src` and aborts it once half of its data has landed in packs; the bytes of the packs it left. */
async function interruptedPush(): Promise<number> {
  const controller = new AbortController();
  const { store: counted } = countingPacks(store, (landed) => {
    if (landed >= DATA / 2) controller.abort();
  });
  const err = await checkpoints(counted)
    .push('m', src, { signal: controller.signal })
    .catch((e) => e);
  expect(err).toMatchObject({ code: 'Aborted' });
  expect(await store.list('ckpt/models/')[Symbol.asyncIterator]().next()).toMatchObject({ done: true });
  return sum((await packs()).values());
}

/** Pushes `src` again, counting the pack bytes it uploads; checks the result. */
async function rerun(s: ObjectStore = store) {
  const { store: counted, counted: uploaded } = countingPacks(s);
  const result = await checkpoints(counted).push('m', src);
  const verified = await checkpoints(s).verify('m');
  expect(verified.ok).toBe(true);
  const dst = path.join(work, `dst-${result.generation}`);
  await checkpoints(s).pull('m', dst);
  expect(await readTree(dst)).toEqual(await readTree(src));
  const [info] = await checkpoints(s).generations('m');
  return { result, uploaded: uploaded.bytes, stored: info!.storedBytes };
}

/** A store whose puts under `prefix` wait, once the put is done (`after`) or before it starts, until `release()`. */
class Gate extends StoreLayer {
  readonly reached: Promise<void>;
  #reached = () => {};
  #open = Promise.resolve();
  release = () => {};
  constructor(
    inner: ObjectStore,
    private readonly prefix: string,
    private readonly when: 'before' | 'after',
  ) {
    super(inner);
    this.reached = new Promise((r) => {
      this.#reached = r;
    });
    this.#open = new Promise((r) => {
      this.release = r;
    });
  }
  override async put(key: string, body: PutBody, options?: PutOptions) {
    if (!key.startsWith(this.prefix)) return super.put(key, body, options);
    if (this.when === 'before') {
      this.#reached();
      await this.#open;
    }
    const result = await super.put(key, body, options);
    if (this.when === 'after') {
      this.#reached();
      await this.#open;
    }
    return result;
  }
}

describe('a push resumes what an interrupted push of the directory stored', () => {
  it('reuses every pack that landed: the rerun uploads only the rest', async () => {
    const landed = await interruptedPush();
    expect(landed).toBeGreaterThanOrEqual(DATA / 2);
    expect(landed).toBeLessThan(DATA);
    const journal = statePath(path.join(work, 'state'), src, 'journal');
    await expect(stat(journal)).resolves.toBeDefined();
    const { result, uploaded, stored } = await rerun();
    // every landed pack was journaled: nothing is uploaded twice
    expect(result.bytesResumed).toBe(landed);
    expect(uploaded).toBe(stored - landed);
    expect(uploaded).toBeLessThanOrEqual(stored - landed + PACK);
    // the commit removed the journal
    await expect(stat(journal)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a journaled pack deleted or replaced meanwhile is uploaded again', async () => {
    const landed = await interruptedPush();
    const [deleted, replaced] = [...(await packs()).entries()];
    await store.delete(deleted![0]);
    // the same size, other bytes: another version
    await store.put(replaced![0], Buffer.alloc(replaced![1], 1), { size: replaced![1] });
    const { result, uploaded, stored } = await rerun();
    expect(result.bytesResumed).toBe(landed - deleted![1] - replaced![1]);
    expect(uploaded).toBe(stored - result.bytesResumed);
  });

  it('packs a gc in progress is about to delete (its sweep record) are not reused', async () => {
    const landed = await interruptedPush();
    const [swept] = [...(await packs()).entries()];
    const id = path.basename(swept![0], '.pack');
    const record = Buffer.from(JSON.stringify({ format: 'ckpt-sweep/1', packs: [id] }));
    await store.put('ckpt/sweeps/0123.json', record, { size: record.length });
    const { result } = await rerun();
    expect(result.bytesResumed).toBe(landed - swept![1]);
  });

  it('a sweep record that cannot be read: nothing is resumed', async () => {
    await interruptedPush();
    await store.put('ckpt/sweeps/0123.json', Buffer.from('{'), { size: 1 });
    const { result, uploaded, stored } = await rerun();
    expect(result.bytesResumed).toBe(0);
    expect(uploaded).toBe(stored);
  });

  it("another store's journal resumes nothing", async () => {
    await interruptedPush();
    expect((await rerun(new MemoryStore('memory://other'))).result.bytesResumed).toBe(0);
  });

  it('packs whose upload was never confirmed are read back and reused when intact; damaged and torn lines are skipped', async () => {
    const landed = await interruptedPush();
    const journal = statePath(path.join(work, 'state'), src, 'journal');
    const [header, ...lines] = (await readFile(journal, 'utf8')).split('\n').filter(Boolean);
    // the lines of uploads that started, without those of confirmations: as if each upload's
    // process had died before it heard back
    const uploads = lines.filter((l) => l.includes('"chunks"'));
    expect(uploads.length).toBeGreaterThan(3);
    const sizeOf = (line: string) => JSON.parse(line.slice(33)).size as number;
    const damaged = uploads[0]!.replace(/"size":(\d)/, (_, d) => `"size":${(Number(d) + 1) % 10}`);
    const torn = uploads.at(-1)!.slice(0, 100);
    await writeFile(journal, [header, damaged, ...uploads.slice(1, -1), torn].join('\n'));
    // one of them replaced by other bytes of its size: its read-back finds them
    const replaced = JSON.parse(uploads[1]!.slice(33)) as { id: string; size: number };
    const key = `ckpt/packs/${replaced.id.slice(0, 2)}/${replaced.id}.pack`;
    await store.put(key, Buffer.alloc(replaced.size, 1), { size: replaced.size });
    const { result } = await rerun();
    expect(result.bytesResumed).toBe(landed - sizeOf(uploads[0]!) - replaced.size - sizeOf(uploads.at(-1)!));
  });
});

describe('gc with grace 0 against a push that resumes packs', () => {
  it('a gc that doomed the packs before the push checked them: the push uploads them again', async () => {
    await interruptedPush();
    // gc wrote its sweep record (every pack of the interrupted push) and waits
    const gate = new Gate(store, 'ckpt/sweeps/', 'after');
    const collecting = checkpoints(gate).gc({ grace: 0 });
    await gate.reached;
    const { result, uploaded, stored } = await rerun();
    expect(result.bytesResumed).toBe(0);
    expect(uploaded).toBe(stored);
    gate.release();
    const gc = await collecting;
    expect(gc.packsDeleted).toBeGreaterThan(0);
    expect((await checkpoints().verify('m')).ok).toBe(true);
    expect(await keys('ckpt/sweeps/')).toEqual([]);
  });

  it('a gc that lists packs while the push runs keeps the packs its lease names', async () => {
    const landed = await interruptedPush();
    // the push has checked what it resumes and waits before its commit
    const gate = new Gate(store, 'ckpt/models/', 'before');
    const pushing = checkpoints(gate).push('m', src);
    await gate.reached;
    const gc = await checkpoints().gc({ grace: 0 });
    expect(gc.pushesInFlight).toBe(1);
    gate.release();
    expect((await pushing).bytesResumed).toBe(landed);
    expect((await checkpoints().verify('m')).ok).toBe(true);
  });

  it('a push that resumes, commits and ends while gc runs: gc finds its generation before deleting', async () => {
    const landed = await interruptedPush();
    // gc has listed the packs (the interrupted push's are unreferenced) and waits before its sweep record
    const gate = new Gate(store, 'ckpt/sweeps/', 'before');
    const collecting = checkpoints(gate).gc({ grace: 0 });
    await gate.reached;
    const { result } = await rerun();
    expect(result.bytesResumed).toBe(landed);
    gate.release();
    await collecting;
    expect((await checkpoints().verify('m')).ok).toBe(true);
  });

  it('removes the sweep records of gcs that died once every pack they name is gone', async () => {
    await interruptedPush();
    const ids = [...(await packs()).keys()].map((k) => path.basename(k, '.pack'));
    const put = (key: string, value: unknown) => {
      const body = Buffer.from(JSON.stringify(value));
      return store.put(key, body, { size: body.length });
    };
    await put('ckpt/sweeps/gone.json', { format: 'ckpt-sweep/1', packs: ['0'.repeat(32)] });
    await put('ckpt/sweeps/present.json', { format: 'ckpt-sweep/1', packs: ids.slice(0, 1) });
    // a gc that deletes nothing: only the record whose packs are all gone goes
    expect((await checkpoints().gc({ grace: 3600_000 })).packsDeleted).toBe(0);
    expect(await keys('ckpt/sweeps/')).toEqual(['ckpt/sweeps/present.json']);
    // this one deletes the interrupted push's packs, its own record, and the other
    expect((await checkpoints().gc({ grace: 0 })).packsDeleted).toBe(ids.length);
    expect(await keys('ckpt/sweeps/')).toEqual([]);
  });
});

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const m of store.list(prefix)) out.push(m.key);
  return out;
}
