// End to end on the filesystem store with the synthetic CRIU-like workload: a full round trip,
// then the next version pushed and pulled over the old one, judged against the oracle.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateCheckpoint, oracle } from '@ckpt/bench/workload';
import { Checkpoints } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { readTree } from '@ckpt/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';

const options = { totalBytes: 48 << 20 };
let work: string;
let checkpoints: Checkpoints;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-workload-'));
  await generateCheckpoint(path.join(work, 'v0'), { seed: 11, version: 0, ...options });
  await generateCheckpoint(path.join(work, 'v1'), { seed: 11, version: 1, ...options });
  checkpoints = new Checkpoints(new FsStore({ root: path.join(work, 'store') }));
});
afterAll(async () => {
  await checkpoints.close();
  await rm(work, { recursive: true, force: true });
});

it('round-trips version 0, then moves version 1 incrementally both ways', async () => {
  const v0 = path.join(work, 'v0');
  const v1 = path.join(work, 'v1');
  const dst = path.join(work, 'dst');
  const first = await checkpoints.push('vllm', v0);
  expect(first.zeroBytes).toBeGreaterThan(first.bytes / 4);
  const fresh = await checkpoints.pull('vllm', dst);
  expect(fresh.generation).toBe(first.generation);
  expect(await readTree(dst)).toEqual(await readTree(v0));

  const { newBytes } = oracle(11, 0, 1, options);
  const next = await checkpoints.push('vllm', v1);
  // what the push stored, against the bytes that are truly new in version 1
  expect(next.bytesTransferred).toBeLessThanOrEqual(2 * newBytes);
  const over = await checkpoints.pull('vllm', dst);
  expect(over.chunksReused).toBeGreaterThan(0);
  expect(over.bytesTransferred).toBeLessThanOrEqual(2 * newBytes);
  expect(await readTree(dst)).toEqual(await readTree(v1));
  expect((await checkpoints.verify('vllm')).ok).toBe(true);
});
