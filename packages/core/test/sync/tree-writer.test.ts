import { createHash } from 'node:crypto';
import { lstat, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { seededBytes } from '@ckpt/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
// the pool starts its workers from the built files: build @ckpt/core first
import { FileWorkers } from '../../dist/sync/chunking/index.js';
import { ChunkPlaces } from '../../src/sync/chunk-places.js';
import { ChunkTable } from '../../src/sync/chunk-table.js';
import type { FileWorkers as Chunker } from '../../src/sync/chunking/index.js';
import type { FileEntry, Manifest } from '../../src/sync/manifest.js';
import { Progress } from '../../src/sync/progress.js';
import { stampOf } from '../../src/sync/stamp.js';
import { TreeWriter } from '../../src/sync/tree-writer.js';
import type { ProgressEvent } from '../../src/sync/types.js';

let staging: string;
beforeEach(async () => {
  staging = await mkdtemp(path.join(tmpdir(), 'ckpt-tree-writer-'));
});
afterEach(async () => {
  await rm(staging, { recursive: true, force: true });
});

const file = (p: string, extents: number[], size: number, mode = 0o640): FileEntry => ({
  path: p,
  type: 'file',
  mode,
  size,
  mtimeMs: 1_600_000_000_000,
  extents,
});

it('writes whole files on a worker one task at a time, split files through handles, and finishes each once', async () => {
  // chunk i is (i + 1) * 1000 bytes; all five lie in one shared buffer, as a read delivers them
  const lengths = [1000, 2000, 3000, 4000, 5000];
  const data = lengths.map((n, i) => seededBytes(n, i + 1));
  const buffer = new SharedArrayBuffer(lengths.reduce((a, b) => a + b, 0));
  const offsets: number[] = [];
  let at = 0;
  for (const d of data) {
    new Uint8Array(buffer).set(d, at);
    offsets.push(at);
    at += d.length;
  }
  const sha = (d: Buffer) => createHash('sha256').update(d).digest('hex');
  const chunks = ChunkTable.fromTuples(lengths.map((n, i) => [0, offsets[i]!, n, sha(data[i]!)] as const));
  const files = [
    file('one', [0], 1000),
    file('two', [1], 2000, 0o600),
    file('split', [2, 3], 7000), // its chunks come in two batches
    file('hole-at-end', [4, -3000], 8000),
    file('empty', [], 0),
  ];
  const manifest = { chunks, entries: files } as unknown as Manifest;
  const pool = new FileWorkers({ threads: 2 });
  let tasks = 0;
  let running = 0;
  let most = 0;
  // the real pool, watched: how many whole-file tasks run at once
  const watched = {
    writeFiles: async (...args: Parameters<Chunker['writeFiles']>) => {
      tasks++;
      most = Math.max(most, ++running);
      try {
        return await pool.writeFiles(...args);
      } finally {
        running--;
      }
    },
  } as unknown as Chunker;
  const events: ProgressEvent[] = [];
  const total = lengths.reduce((a, b) => a + b, 0);
  const progress = new Progress('download', { bytes: total, files: 5 }, (e) => events.push(e), 0);
  const writer = new TreeWriter(staging, new ChunkPlaces(manifest), () => watched, progress);
  try {
    await writer.begin(files);
    const view = (i: number) => ({ index: i, data: Buffer.from(buffer, offsets[i]!, lengths[i]!) });
    // two batches at once, as two reads deliver them
    await Promise.all([writer.write([view(0), view(1), view(2)]), writer.write([view(3), view(4)])]);
    writer.assertComplete();
    await writer.close();
  } finally {
    await pool.close();
  }
  expect(tasks).toBe(2);
  expect(most).toBe(1);
  const content = async (p: string) => readFile(path.join(staging, p));
  expect((await content('one')).equals(data[0]!)).toBe(true);
  expect((await content('two')).equals(data[1]!)).toBe(true);
  expect((await content('split')).equals(Buffer.concat([data[2]!, data[3]!]))).toBe(true);
  expect((await content('hole-at-end')).equals(Buffer.concat([data[4]!, Buffer.alloc(3000)]))).toBe(true);
  expect((await content('empty')).length).toBe(0);
  for (const f of files) {
    const st = await lstat(path.join(staging, f.path), { bigint: true });
    expect(Number(st.mode & 0o7777n)).toBe(f.mode);
    expect(Number(st.mtimeMs)).toBe(f.mtimeMs);
    expect(writer.stamps[f.path]).toEqual(stampOf(st));
  }
  expect(events.at(-1)).toMatchObject({ bytesDone: total, filesDone: 5 });
});

it('fails when a file is still missing chunks', async () => {
  const chunks = ChunkTable.fromTuples([[0, 0, 10, 'a'.repeat(64)]]);
  const manifest = { chunks, entries: [file('f', [0], 10)] } as unknown as Manifest;
  const progress = new Progress('download', { bytes: 10, files: 1 }, undefined);
  const writer = new TreeWriter(staging, new ChunkPlaces(manifest), () => ({}) as Chunker, progress); // no chunk arrives: no worker needed
  await writer.begin([file('f', [0], 10)]);
  expect(() => writer.assertComplete()).toThrow(/f is missing 1 chunk writes/);
  await writer.close();
});
