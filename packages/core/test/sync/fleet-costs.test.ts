// What ls, exists and gc cost in store requests and bytes: O(models + generations), never O(packs
// or chunks); ls reads no manifest when the listing holds the latest generations' summary keys. The
// same store holds checkpoints with few packs and with many; the counts compare.
// Every operation also reads the store's record (ckpt/store.json) once: one more get.
// Imports the BUILT package: the chunker runs in worker threads.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, seededBytes, useTempDir } from '@ckpt/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, type ObjectStore, StoreMetrics, withEvents } from '../../dist/index.js';
import { SMALL_CHUNKING } from './small-chunking.js';

const tempDir = useTempDir('ckpt-fleet-costs-', 'file');
const GENERATIONS = 3;
/** Most bytes the store's record takes (read once by every operation). */
const RECORD_BYTES = 1024;
/** `few` is stored in 8 MiB packs, `many` in 16 KiB packs: the same files, many times the packs. */
const MODELS = { few: 8 << 20, many: 16 << 10 };

let store: MemoryStore;

beforeAll(async () => {
  store = new MemoryStore();
  const work = await tempDir();
  for (const [model, packSize] of Object.entries(MODELS)) {
    const dir = await makeCheckpoint(path.join(work, model), { pagesScale: 0.2 });
    const ckpt = new Checkpoints(store, { chunking: SMALL_CHUNKING, packSize, threads: 1 });
    try {
      for (let g = 0; g < GENERATIONS; g++) {
        await writeFile(path.join(dir, 'pages-2.img'), seededBytes(200 << 10, g));
        await ckpt.push(model, dir);
      }
    } finally {
      await ckpt.close();
    }
  }
}, 120_000);

async function keys(prefix: string): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list(prefix)) out.push(meta.key);
  return out;
}

/** What `run` asked of the store: requests by operation and bytes read. */
async function costOf(run: (ckpt: Checkpoints) => Promise<unknown>) {
  const metrics = new StoreMetrics();
  const counted: ObjectStore = withEvents(store, metrics.listener);
  const ckpt = new Checkpoints(counted, { threads: 1 });
  try {
    await run(ckpt);
  } finally {
    await ckpt.close();
  }
  const { ops, bytesIn } = metrics.snapshot();
  const count = (op: keyof typeof ops) => ops[op]?.count ?? 0;
  return { list: count('list'), get: count('get'), head: count('head'), bytesIn };
}

describe('fleet-size costs', () => {
  it('the store holds far more packs for `many` than for `few` (verify reads each)', async () => {
    const few = await costOf((c) => c.verify('few'));
    const many = await costOf((c) => c.verify('many'));
    expect(many.get).toBeGreaterThan(4 * few.get);
  });

  it('exists: one listing and one small read of the latest manifest, whatever its packs', async () => {
    const few = await costOf((c) => c.exists('few'));
    const many = await costOf((c) => c.exists('many'));
    expect(few).toMatchObject({ list: 1, get: 1 + 1, head: 0 });
    expect(many).toEqual({ ...few, bytesIn: expect.any(Number) });
    expect(many.bytesIn).toBeLessThanOrEqual(4096 + RECORD_BYTES);
  });

  it('ls: one listing, no read but the record (every latest generation has its summary key)', async () => {
    const all = await costOf((c) => c.list());
    expect(all).toMatchObject({ list: 1, get: 1, head: 0 });
    expect(all.bytesIn).toBeLessThanOrEqual(RECORD_BYTES);
  });

  it('ls <model>: one listing, one small read per generation but the latest', async () => {
    // it lists the model's keys and where a llmux 0.7 checkpoint of it would be
    for (const model of Object.keys(MODELS)) {
      const one = await costOf((c) => c.generations(model));
      expect(one).toMatchObject({ list: 2, get: GENERATIONS - 1 + 1, head: 0 });
      expect(one.bytesIn).toBeLessThanOrEqual((GENERATIONS - 1) * 4096 + RECORD_BYTES);
    }
  });

  it('without summary keys: one small read per model; ls <model>: one per generation', async () => {
    const summaries = (await keys('ckpt/models/')).filter((k) => k.endsWith('.summary'));
    expect(summaries).toHaveLength(Object.keys(MODELS).length);
    await store.deleteMany(summaries);
    try {
      const all = await costOf((c) => c.list());
      expect(all).toMatchObject({ list: 1, get: 2 + 1, head: 0 });
      expect(all.bytesIn).toBeLessThanOrEqual(2 * 4096 + RECORD_BYTES);
      for (const model of Object.keys(MODELS)) {
        const one = await costOf((c) => c.generations(model));
        expect(one).toMatchObject({ get: GENERATIONS + 1, head: 0 });
        expect(one.bytesIn).toBeLessThanOrEqual(GENERATIONS * 4096 + RECORD_BYTES);
      }
    } finally {
      for (const key of summaries) await store.put(key, Buffer.alloc(0));
    }
  });

  it('a lead longer than the first read takes one more read of its length; one unlike its digest is not believed', async () => {
    const work = await tempDir();
    const dir = await makeCheckpoint(path.join(work, 'labelled'), { pagesScale: 0.1 });
    const ckpt = new Checkpoints(store, { threads: 1 });
    try {
      await ckpt.push('labelled', dir, { labels: { note: 'x'.repeat(10_000) } });
    } finally {
      await ckpt.close();
    }
    // 10,000 characters of labels do not fit a key: no summary key, ls reads the lead
    expect((await keys('ckpt/models/labelled/')).filter((k) => k.endsWith('.summary'))).toEqual([]);
    const cost = await costOf((c) => c.exists('labelled'));
    expect(cost).toMatchObject({ list: 1, get: 2 + 1, head: 0 });
    expect(cost.bytesIn).toBeLessThan(4096 + 11_000 + RECORD_BYTES);
    // the manifest rewritten under its old digest: read whole, and refused by its checksum
    const [key] = await keys('ckpt/models/labelled/');
    const got = await store.get(key!);
    const text = (await readAll(got.body)).toString().replace('"xxx', '"yyy');
    await store.put(key!, Buffer.from(text), { metadata: got.metadata });
    await expect(costOf((c) => c.generations('labelled'))).rejects.toMatchObject({ code: 'Integrity' });
    expect(await new Checkpoints(store).exists('labelled')).toBe(false);
    await store.delete(key!);
  });

  it('gc: each manifest read once, no request per pack but their listing and deletions', async () => {
    const cost = await costOf((c) => c.gc({ grace: 3600_000 }));
    // the manifests, the store's clock (one HEAD); leases and trash: none
    expect(cost).toMatchObject({ get: 2 * GENERATIONS + 1, head: 1 });
    // the clock (before it is written), the leases (twice), the models, the trash, the sweep
    // records of earlier gcs, the packs
    expect(cost.list).toBe(7);
  });
});
