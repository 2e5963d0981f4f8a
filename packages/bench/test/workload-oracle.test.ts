import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint, oracle, PAGE_BYTES, type WorkloadOptions } from '../src/workload/index.js';

const MiB = 2 ** 20;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-workload-oracle-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Hashes every non-zero 4 KiB block (at 4 KiB offsets, the last one possibly shorter) of a directory. */
async function blocks(dir: string): Promise<{ hash: string; length: number; pages: boolean }[]> {
  const out: { hash: string; length: number; pages: boolean }[] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const bytes = await readFile(join(entry.parentPath, entry.name));
    for (let at = 0; at < bytes.length; at += PAGE_BYTES) {
      const block = bytes.subarray(at, at + PAGE_BYTES);
      if (block.every((b) => b === 0)) continue;
      out.push({
        hash: createHash('sha1').update(block).digest('hex'),
        length: block.length,
        pages: entry.name.startsWith('pages-'),
      });
    }
  }
  return out;
}

/** The oracle by brute force over the files on disk. */
async function bruteForce(from: string, to: string) {
  const old = new Set((await blocks(from)).map((b) => b.hash));
  const fresh = (await blocks(to)).filter((b) => !old.has(b.hash));
  const sum = (list: typeof fresh) => list.reduce((n, b) => n + b.length, 0);
  return { newBytes: sum(fresh), newPagesBytes: sum(fresh.filter((b) => b.pages)) };
}

describe('oracle', () => {
  it.each<[string, WorkloadOptions, number, number]>([
    ['defaults, v0 → v1', {}, 0, 1],
    ['PID churn, v1 → v2', { pidChurn: true }, 1, 2],
    ['everything rewritten', { rewriteFraction: 1 }, 0, 1],
    ['mostly zeros, v0 → v2', { preset: 'mostly-zeros', inserts: 6, deletes: 3 }, 0, 2],
  ])('matches a brute-force page-hash count (%s)', async (name, options, from, to) => {
    const base = { seed: 21, totalBytes: 8 * MiB, ...options };
    const dirFrom = join(root, `${name}-from`);
    const dirTo = join(root, `${name}-to`);
    await generateCheckpoint(dirFrom, { ...base, version: from });
    const written = await generateCheckpoint(dirTo, { ...base, version: to });
    const expected = await bruteForce(dirFrom, dirTo);
    const result = oracle(21, from, to, base);
    expect(result).toMatchObject(expected);
    expect(result.newBytes).toBe(result.newPagesBytes + result.newOtherBytes);
    expect(result.toBytes).toBe(written.bytes);
    expect(result.newBytes).toBeGreaterThan(0);
    expect(result.newBytes).toBeLessThan(written.bytes);
  });

  it('is zero between a version and itself', () => {
    expect(oracle(5, 3, 3, { totalBytes: 64 * MiB }).newBytes).toBe(0);
  });

  it('grows with the rewrite fraction', () => {
    const sweep = [0, 0.01, 0.05, 0.2, 1].map(
      (rewriteFraction) => oracle(5, 0, 1, { rewriteFraction }).newBytes,
    );
    for (let i = 1; i < sweep.length; i++) expect(sweep[i]).toBeGreaterThan(sweep[i - 1]!);
  });
});
