// org/name model names (Hugging Face style) beside flat ones. Imports the BUILT package: the
// chunker runs in worker threads.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readTree, seededBytes } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, StoreError, validateModel } from '../../dist/index.js';

let work: string;
let store: MemoryStore;
let ckpt: Checkpoints;

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-names-'));
  store = new MemoryStore();
  ckpt = new Checkpoints(store, { packSize: 1 << 20 });
});
afterEach(async () => {
  await ckpt.close();
  await rm(work, { recursive: true, force: true });
});

async function keys(prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list(prefix)) out.push(meta.key);
  return out;
}

/** A tiny checkpoint directory whose content depends on `seed`. */
async function tree(name: string, seed: number): Promise<string> {
  const dir = path.join(work, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'pages-1.img'), seededBytes(200_000, seed));
  await writeFile(path.join(dir, 'inventory.img'), `inventory ${seed}`);
  return dir;
}

describe('model names', () => {
  it('accepts name and org/name, each part validated as a flat name', () => {
    for (const good of [
      'llama-8b',
      'facebook/opt-125m',
      'meta-llama/Llama-3.1-8B-Instruct',
      'a/b',
      'Qwen/Qwen2.5-0.5B',
    ]) {
      expect(validateModel(good)).toBe(good);
    }
    for (const bad of [
      '',
      '/a',
      'a/',
      'a//b',
      'a/b/c',
      '../a',
      'a/..',
      'a/.hidden',
      'a/b.',
      'a/b\n',
      'a/b\u001b[31m',
      'org/20261128T134501123Z-1a2b3c4d.json',
      'ckpt/models',
      'CKPT/x',
      `${'a'.repeat(100)}/${'b'.repeat(100)}`,
    ]) {
      const err = (() => {
        try {
          validateModel(bad);
        } catch (e) {
          return e;
        }
      })();
      expect(StoreError.is(err, 'InvalidArgument'), JSON.stringify(bad)).toBe(true);
    }
  });

  it('stores org/name under ckpt/models/<org>/<name>/ and round-trips it', async () => {
    const src = await tree('src', 1);
    const pushed = await ckpt.push('facebook/opt-125m', src);
    const stored = await keys('ckpt/models/');
    expect(stored).toContain(`ckpt/models/facebook/opt-125m/${pushed.generation}.json`);
    for (const key of stored)
      expect(key.startsWith(`ckpt/models/facebook/opt-125m/${pushed.generation}.`)).toBe(true);
    const dst = path.join(work, 'dst');
    await ckpt.pull('facebook/opt-125m', dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
    expect(await ckpt.exists('facebook/opt-125m')).toBe(true);
    expect((await ckpt.verify('facebook/opt-125m')).ok).toBe(true);
  });

  it('a model a and a model a/b never see each other’s generations: list, generations, exists, delete, gc', async () => {
    const one = await tree('one', 1);
    const two = await tree('two', 2);
    const a = await ckpt.push('a', one);
    const ab = await ckpt.push('a/b', two);
    const ab2 = await ckpt.push('a/b', one);
    expect((await ckpt.list()).map((m) => [m.model, m.generations, m.latest.generation])).toEqual([
      ['a', 1, a.generation],
      ['a/b', 2, ab2.generation],
    ]);
    expect((await ckpt.generations('a')).map((g) => g.generation)).toEqual([a.generation]);
    expect((await ckpt.generations('a/b')).map((g) => g.generation)).toEqual([ab.generation, ab2.generation]);

    // gc over all models keeps one generation per model, and a/b's trash keeps its packs in grace
    const gc = await ckpt.gc({ keep: 1, grace: 3600_000 });
    expect(gc.expiredGenerations).toEqual([`a/b@${ab.generation}`]);
    expect(gc.packsDeleted).toBe(0);
    expect(await keys('ckpt/trash/')).toEqual([`ckpt/trash/a/b/${ab.generation}.json`]);
    expect((await ckpt.gc({ grace: 3600_000 })).packsDeleted).toBe(0);

    // removing a leaves a/b whole; gc past the grace frees only what nothing needs
    await ckpt.delete('a', { all: true });
    expect(await ckpt.exists('a')).toBe(false);
    expect(await ckpt.exists('a/b')).toBe(true);
    await expect(ckpt.generations('a')).rejects.toMatchObject({ code: 'NotFound' });
    await ckpt.gc({ grace: 0 });
    const dst = path.join(work, 'dst');
    await ckpt.pull('a/b', dst);
    expect(await readTree(dst)).toEqual(await readTree(one));
    expect((await ckpt.verify('a/b')).ok).toBe(true);
  });

  it('a llmux 0.7 checkpoint of a is not mixed with one of a/images', async () => {
    await store.put('a/images/pages-1.img', seededBytes(1000, 1));
    await store.put('a/images/images/pages-1.img', seededBytes(2000, 2));
    expect((await ckpt.generations('a')).map((g) => [g.generation, g.files, g.bytes])).toEqual([
      ['legacy', 1, 1000],
    ]);
    const dst = path.join(work, 'legacy');
    await ckpt.pull('a', dst);
    expect(Object.keys(await readTree(dst))).toEqual(['pages-1.img']);
    await ckpt.delete('a', { all: true });
    expect(await keys()).toEqual(['a/images/images/pages-1.img']);
    expect(await ckpt.exists('a/images')).toBe(true);
  });
});
