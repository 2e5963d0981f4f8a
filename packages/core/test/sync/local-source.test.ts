import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { copyLocalChunks, type LocalRun } from '../../src/sync/local-source.js';
import type { Manifest } from '../../src/sync/manifest.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-local-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

it('a local read that fails stops the copy, which rejects only once no read is left running', async () => {
  const file = path.join(work, 'old');
  await writeFile(file, Buffer.alloc(64, 1));
  const run = (abs: string, index: number): LocalRun => ({ abs, chunks: [{ offset: 0, length: 64, index }] });
  const runs = [run(path.join(work, 'missing'), 0), ...Array.from({ length: 9 }, (_, i) => run(file, i + 1))];
  const manifest = { chunks: { hashOf: () => 'h' } } as unknown as Manifest;
  let hashing = 0;
  let started = 0;
  const hash = async <B extends ArrayBuffer | SharedArrayBuffer>(buffer: B, extents: readonly unknown[]) => {
    started++;
    hashing++;
    await new Promise((resolve) => setTimeout(resolve, 50)); // still hashing when the first read fails
    hashing--;
    return { hashes: extents.map(() => 'h'), buffer };
  };
  const err = await copyLocalChunks(runs, manifest, { hash, deliver: async () => {} }).catch((e) => e);
  expect(err).toMatchObject({ code: 'ENOENT' });
  expect(hashing).toBe(0);
  expect(started).toBeLessThan(runs.length - 1); // the reads not started yet were skipped
});
