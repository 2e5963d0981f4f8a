// A push over a latest generation whose stored data is damaged: it never reuses what is not
// intact, and with `repair` it reads every chunk it could reuse back first.
// Imports the BUILT package: the chunker runs in worker threads.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCheckpoint, readTree, seededBytes } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints, type ProgressEvent } from '../../dist/index.js';
import { packKey } from '../../src/sync/layout.js';
import { readManifest } from '../../src/sync/stored-generations.js';
import { SMALL_CHUNKING } from './small-chunking.js';

let work: string;
let src: string;
let store: MemoryStore;
let ckpt: Checkpoints;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-repair-'));
  src = await makeCheckpoint(path.join(work, 'src'));
  store = new MemoryStore();
  ckpt = new Checkpoints(store, { chunking: SMALL_CHUNKING, packSize: 256 << 10 });
});
afterEach(async () => {
  await ckpt.close();
  await rm(work, { recursive: true, force: true });
});

/** The pack key and offset of the first stored chunk of `file` in generation `generation` of `m`. */
async function firstChunkOf(generation: string, file: string) {
  const manifest = await readManifest(store, 'm', generation);
  const entry = manifest.entries.find((e) => e.path === file);
  if (entry?.type !== 'file') throw new Error(`no file ${file}`);
  const chunk = entry.extents.find((x) => x >= 0)!;
  return {
    key: packKey(manifest.packs[manifest.chunks.packOf(chunk)]!),
    offset: manifest.chunks.offsetOf(chunk),
  };
}

/** Rewrites object `key` as `change` makes it. */
async function rewrite(key: string, change: (data: Buffer) => Buffer) {
  const data = await readAll((await store.get(key)).body);
  await store.put(key, change(data));
}

/** Flips a byte of the first chunk of `file`: bit rot the pack's size does not show. */
async function flipByteOf(generation: string, file: string) {
  const { key, offset } = await firstChunkOf(generation, file);
  await rewrite(key, (data) => {
    data[offset + 100]! ^= 0xff;
    return data;
  });
}

/** Pulls the latest generation of `m` into a fresh directory and returns its tree. */
async function pulledTree() {
  const dst = path.join(work, `pulled-${Math.random().toString(36).slice(2)}`);
  await ckpt.pull('m', dst);
  return readTree(dst);
}

describe('a push over a damaged latest generation', () => {
  it('with repair, stores a flipped chunk again from the directory: the new generation verifies and pulls exactly', async () => {
    const first = await ckpt.push('m', src);
    await flipByteOf(first.generation, 'pages-2.img');
    expect((await ckpt.verify('m')).problems.map((p) => p.path)).toEqual(['pages-2.img']);

    const events: ProgressEvent[] = [];
    const repaired = await ckpt.push('m', src, { repair: true, onProgress: (e) => events.push(e) });
    expect(repaired).toMatchObject({
      parent: first.generation,
      unchanged: true,
      damagedChunks: 1,
      unrepairedFiles: [],
      chunksNew: 1,
    });
    expect(repaired.generation).not.toBe(first.generation);
    // every stored chunk of the parent was read back once
    const check = events.filter((e) => e.phase === 'verify');
    expect(check.at(-1)).toMatchObject({ bytesDone: first.bytes - first.zeroBytes });
    expect(await ckpt.verify('m')).toMatchObject({ generation: repaired.generation, ok: true });
    expect(await pulledTree()).toEqual(await readTree(src));
  });

  it('without damage, a repair push reads the parent back and writes nothing', async () => {
    const first = await ckpt.push('m', src);
    const again = await ckpt.push('m', src, { repair: true });
    expect(again).toMatchObject({ generation: first.generation, damagedChunks: 0, bytesTransferred: 0 });
  });

  it('bases that share packs (dedupWith) are read back once, and damage there is damage for both', async () => {
    const first = await ckpt.push('m', src);
    const other = await ckpt.push('other', src, { dedupWith: ['m'] });
    expect(other.chunksNew).toBe(0);
    await flipByteOf(first.generation, 'pages-2.img');

    const events: ProgressEvent[] = [];
    const repaired = await ckpt.push('other', src, {
      repair: true,
      dedupWith: ['m'],
      onProgress: (e) => events.push(e),
    });
    expect(events.filter((e) => e.phase === 'verify').at(-1)).toMatchObject({
      bytesTotal: first.bytes - first.zeroBytes,
    });
    expect(repaired).toMatchObject({ damagedChunks: 1, chunksNew: 1, unrepairedFiles: [] });
    expect((await ckpt.verify('other')).ok).toBe(true);
  });

  it('a pack cut short: a plain push stores again the chunks it no longer holds', async () => {
    const first = await ckpt.push('m', src);
    const { key } = await firstChunkOf(first.generation, 'pages-2.img');
    await rewrite(key, (data) => data.subarray(0, data.length >> 1));
    expect((await ckpt.verify('m')).ok).toBe(false);

    const again = await ckpt.push('m', src);
    expect(again.generation).not.toBe(first.generation);
    expect(again.damagedChunks).toBeGreaterThan(0);
    expect(again.unrepairedFiles).toEqual([]);
    expect((await ckpt.verify('m')).ok).toBe(true);
    expect(await pulledTree()).toEqual(await readTree(src));
  });

  it('a damaged chunk the directory no longer holds: commits the directory as it is and names the files that stay broken', async () => {
    const first = await ckpt.push('m', src);
    await flipByteOf(first.generation, 'pages-2.img');
    await writeFile(path.join(src, 'pages-2.img'), seededBytes(700 << 10, 99));

    const pushed = await ckpt.push('m', src, { repair: true });
    expect(pushed).toMatchObject({ unchanged: false, damagedChunks: 1, unrepairedFiles: ['pages-2.img'] });
    expect((await ckpt.verify('m')).ok).toBe(true);
    expect(await pulledTree()).toEqual(await readTree(src));
    // the parent keeps its damage: no push rewrites a committed generation
    expect((await ckpt.verify('m', { generation: first.generation })).ok).toBe(false);
  });
});
