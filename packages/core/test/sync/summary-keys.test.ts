// Summary keys: what `ls` shows of a model's latest generation, carried in the name of an empty
// object beside its manifest. The engine tests import the BUILT package (the chunker runs in worker threads).
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

/** A store of 3 generations each of two models, labelled `step` 0, 1, 2. */
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

/** The generation ids of `model`, oldest first. */
const ids = async (ckpt: Checkpoints, model: string) =>
  (await ckpt.generations(model)).map((g) => g.generation);

describe('summary keys through the engine', () => {
  it('a push leaves the key of its generation alone: one per model, the latest', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const latest = [(await ids(ckpt, 'llama')).at(-1)!, (await ids(ckpt, 'org/mistral')).at(-1)!];
    expect(await summaryKeys(store)).toEqual([
      expect.stringContaining(`/llama/${latest[0]}.`),
      expect.stringContaining(`/org/mistral/${latest[1]}.`),
    ]);
  });

  it('ls shows from them exactly what it reads from the manifests', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const fromKeys = { models: await ckpt.list(), llama: await ckpt.generations('llama') };
    await store.deleteMany(await summaryKeys(store));
    const fromManifests = { models: await ckpt.list(), llama: await ckpt.generations('llama') };
    expect(fromKeys).toEqual(fromManifests);
    expect(fromKeys.llama.map((g) => g.labels.step)).toEqual(['0', '1', '2']);
  });

  it('a key whose manifest is gone is never shown, and gc removes it', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const [, second, third] = await ids(ckpt, 'llama');
    await store.delete(`ckpt/models/llama/${third}.json`); // as an older ckpt's delete would leave it
    expect(await ids(ckpt, 'llama')).toEqual([expect.any(String), second]);
    expect((await ckpt.list()).find((m) => m.model === 'llama')?.latest.labels.step).toBe('1');
    expect(await summaryKeys(store)).toHaveLength(2);
    await ckpt.gc({ grace: 3600_000 });
    expect(await summaryKeys(store)).toEqual([expect.stringContaining('/org/mistral/')]);
  });

  it('gc removes the keys of older generations (pushes that raced), never the latest one', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const generations = await ckpt.generations('llama');
    for (const g of generations.slice(0, 2)) await store.put(summaryKey(g)!, Buffer.alloc(0));
    expect(await summaryKeys(store)).toHaveLength(4);
    await ckpt.gc({ grace: 3600_000 });
    expect(await summaryKeys(store)).toEqual([
      summaryKey(generations[2]!),
      expect.stringContaining('/org/mistral/'),
    ]);
  });

  it('delete and gc --keep remove the keys of the generations they remove', async () => {
    const store = new MemoryStore();
    const ckpt = await pushed(store);
    const third = (await ids(ckpt, 'llama')).at(-1)!;
    await ckpt.delete('llama', { generation: third });
    expect((await summaryKeys(store)).filter((k) => k.includes('/llama/'))).toEqual([]);
    expect((await ckpt.list()).find((m) => m.model === 'llama')?.latest.labels.step).toBe('1');
    await ckpt.delete('org/mistral', { all: true });
    expect(await summaryKeys(store)).toEqual([]);
    const model = path.join(await tempDir(), 'gemma');
    const dir = await makeCheckpoint(model, { pagesScale: 0.05 });
    await ckpt.push('gemma', dir);
    expect(await summaryKeys(store)).toHaveLength(1);
    await ckpt.gc({ keep: 0, all: true, grace: 0 });
    expect(await summaryKeys(store)).toEqual([]);
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
