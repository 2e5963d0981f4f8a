// Summary keys: what `ls` shows of a generation, carried in the name of an empty object beside its
// manifest. The engine tests import the BUILT package (the chunker runs in worker threads).
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, seededBytes, useTempDir } from '@ckpt/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, type ObjectStore } from '../../dist/index.js';
import { parseSummaryKey, summaryKey } from '../../src/sync/summary-keys.js';
import type { GenerationInfo } from '../../src/sync/types.js';

const tempDir = useTempDir('ckpt-summary-keys-', 'file');
const opened: Checkpoints[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((c) => c.close()));
});
const open = (store: ObjectStore, options: ConstructorParameters<typeof Checkpoints>[1] = {}) => {
  const c = new Checkpoints(store, { threads: 1, packSize: 1 << 20, ...options });
  opened.push(c);
  return c;
};

const INFO: GenerationInfo = {
  model: 'org/llama',
  generation: '20261207T081500123Z-0a1b2c3d',
  createdAt: new Date('2026-12-07T08:15:00.123Z'),
  files: 412,
  bytes: 3 * 2 ** 30,
  storedBytes: 2 ** 30,
  addedBytes: 2 ** 20,
  labels: { vllm: '0.11.0', gpu: 'H100' },
  legacy: false,
};

describe('summary keys', () => {
  it('a key tells its generation back, and its last segment stays a file name', () => {
    const key = summaryKey(INFO)!;
    expect(key).toMatch(/^ckpt\/models\/org\/llama\/20261207T081500123Z-0a1b2c3d\.[A-Za-z0-9_-]+\.summary$/);
    expect(key.split('/').at(-1)!.length).toBeLessThanOrEqual(255);
    expect(parseSummaryKey(key)).toEqual({
      key,
      model: 'org/llama',
      generation: INFO.generation,
      info: INFO,
    });
    const { addedBytes: _, ...older } = INFO;
    expect(parseSummaryKey(summaryKey(older)!)?.info).toEqual(older);
  });

  it('labels too long for a key: no key', () => {
    expect(summaryKey({ ...INFO, labels: { note: 'x'.repeat(150) } })).toBeUndefined();
  });

  it('other keys are not summary keys; a payload of another version is not read', () => {
    expect(parseSummaryKey(`ckpt/models/llama/${INFO.generation}.json`)).toBeUndefined();
    expect(parseSummaryKey('ckpt/packs/ab/abcd.pack')).toBeUndefined();
    expect(parseSummaryKey(`ckpt/models/a/b/c/${INFO.generation}.WzFd.summary`)).toBeUndefined();
    const other = Buffer.from(JSON.stringify([2, 'more'])).toString('base64url');
    const key = `ckpt/models/llama/${INFO.generation}.${other}.summary`;
    expect(parseSummaryKey(key)).toEqual({
      key,
      model: 'llama',
      generation: INFO.generation,
      info: undefined,
    });
  });
});

/** A store of `models` generations each of two models, with their summary keys. */
async function pushed(store: ObjectStore, options: ConstructorParameters<typeof Checkpoints>[1] = {}) {
  const work = await tempDir();
  const ckpt = open(store, options);
  for (const model of ['llama', 'org/mistral']) {
    const dir = await makeCheckpoint(path.join(work, model), { pagesScale: 0.05 });
    for (let g = 0; g < 3; g++) {
      await writeFile(path.join(dir, 'pages-2.img'), seededBytes(64 << 10, g));
      await ckpt.push(model, dir, { labels: { step: String(g) } });
    }
  }
  return ckpt;
}

async function summaryKeys(store: ObjectStore): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list('ckpt/models/')) if (meta.key.endsWith('.summary')) out.push(meta.key);
  return out;
}

describe('summary keys through the engine', () => {
  it('ls shows from them exactly what it reads from the manifests', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    expect(await summaryKeys(store)).toHaveLength(6);
    const fromKeys = { models: await ckpt.list(), llama: await ckpt.generations('llama') };
    await store.deleteMany(await summaryKeys(store));
    const fromManifests = { models: await ckpt.list(), llama: await ckpt.generations('llama') };
    expect(fromKeys).toEqual(fromManifests);
    expect(fromKeys.llama.map((g) => g.labels.step)).toEqual(['0', '1', '2']);
  });

  it('a key whose manifest is gone is never shown, and gc removes it', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const [first] = await ckpt.generations('llama');
    await store.delete(`ckpt/models/llama/${first!.generation}.json`); // as an older ckpt's delete would leave it
    expect((await ckpt.generations('llama')).map((g) => g.generation)).not.toContain(first!.generation);
    expect(await summaryKeys(store)).toHaveLength(6);
    await ckpt.gc({ grace: 3600_000 });
    expect(await summaryKeys(store)).toHaveLength(5);
  });

  it('delete and gc --keep remove the keys of the generations they remove', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const [, second] = await ckpt.generations('llama');
    await ckpt.delete('llama', { generation: second!.generation });
    expect((await summaryKeys(store)).filter((k) => k.includes(second!.generation))).toEqual([]);
    await ckpt.delete('org/mistral', { all: true });
    expect(await summaryKeys(store)).toHaveLength(2);
    await ckpt.gc({ keep: 1, grace: 0 });
    const [latest] = await ckpt.generations('llama');
    expect(await summaryKeys(store)).toEqual([expect.stringContaining(latest!.generation)]);
  });

  it('a push whose summary key cannot be written still commits; ls reads the manifest instead', async () => {
    const store = new MemoryStore();
    const refusing: ObjectStore = Object.assign(Object.create(store), {
      put: (key: string, ...rest: Parameters<ObjectStore['put']> extends [string, ...infer R] ? R : never) =>
        key.endsWith('.summary') ? Promise.reject(new Error('refused')) : store.put(key, ...rest),
    });
    const ckpt = await pushed(refusing);
    expect(await summaryKeys(store)).toEqual([]);
    expect((await ckpt.generations('llama')).map((g) => g.labels.step)).toEqual(['0', '1', '2']);
  });

  it('an encrypted store gets none, and ls there does not believe one', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store, { encryption: { key: 'correct horse battery staple' } });
    expect(await summaryKeys(store)).toEqual([]);
    const [latest] = (await ckpt.generations('llama')).slice(-1);
    await store.put(summaryKey({ ...latest!, files: 99_999 })!, Buffer.alloc(0));
    expect((await ckpt.generations('llama')).at(-1)).toEqual(latest);
  });
});
