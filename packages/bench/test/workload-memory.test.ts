import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint } from '../src/workload/index.js';

const MiB = 2 ** 20;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-workload-mem-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('generateCheckpoint: memory', () => {
  it('stays within a few blocks of memory while writing 256 MiB', async () => {
    const base = process.memoryUsage().rss;
    let peak = base;
    const timer = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 5);
    try {
      const result = await generateCheckpoint(join(root, 'big'), { seed: 2, totalBytes: 256 * MiB });
      expect(result.bytes).toBeGreaterThan(255 * MiB);
    } finally {
      clearInterval(timer);
    }
    // Two 8 MiB blocks plus the model; the largest file alone is ~180 MiB.
    expect((peak - base) / MiB).toBeLessThan(64);
  });
});
