import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { StoreError } from '@ckpt/core';
import { readTree, type TreeEntry } from '@ckpt/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateCheckpoint, PAGE_BYTES, planCheckpoint, summarizePlan } from '../src/workload/index.js';

const MiB = 2 ** 20;
const TOTAL = 16 * MiB;
let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-workload-gen-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Relative path → size, for every regular file under `dir`. */
async function listFiles(dir: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out.set(path.slice(dir.length + 1), (await stat(path)).size);
  }
  return out;
}

describe('generateCheckpoint: determinism', () => {
  it('writes the same bytes for the same seed and different bytes for another seed', async () => {
    const [a, b, c] = ['a', 'b', 'c'].map((n) => join(root, `det-${n}`)) as [string, string, string];
    await generateCheckpoint(a, { seed: 11, totalBytes: 4 * MiB });
    await generateCheckpoint(b, { seed: 11, totalBytes: 4 * MiB, blockBytes: 64 * 1024 });
    await generateCheckpoint(c, { seed: 12, totalBytes: 4 * MiB });
    const [da, db, dc] = await Promise.all([readTree(a), readTree(b), readTree(c)]);
    expect(db).toEqual(da);
    const sha = (tree: Record<string, TreeEntry>, p: string) => {
      const entry = tree[p];
      return entry?.type === 'file' ? entry.sha : undefined;
    };
    expect(sha(dc, 'pages-1.img')).not.toBe(sha(da, 'pages-1.img'));
    const shared = Object.keys(da).filter(
      (p) => sha(da, p) !== undefined && sha(dc, p) === sha(da, p) && !p.endsWith('__init__.py'),
    );
    expect(shared.filter((p) => p !== 'tty-data.img')).toEqual([]);
  });
});

describe('generateCheckpoint: shape of version 0', () => {
  let dir: string;
  let files: Map<string, number>;
  let result: Awaited<ReturnType<typeof generateCheckpoint>>;

  beforeAll(async () => {
    dir = join(root, 'shape');
    result = await generateCheckpoint(dir, { seed: 3, totalBytes: TOTAL });
    files = await listFiles(dir);
  });

  it('reports what it wrote', () => {
    expect(result.files).toBe(files.size);
    expect(result.bytes).toBe([...files.values()].reduce((a, b) => a + b, 0));
    expect(result.dir).toBe(dir);
    expect(result.seconds).toBeGreaterThan(0);
  });

  it('sums to the requested total, within a few pages', () => {
    expect(Math.abs(result.bytes - TOTAL)).toBeLessThan(3 * PAGE_BYTES);
  });

  it('has three page-aligned pages files split about 70/20/10 and holding ~97 %', () => {
    const pages = ['pages-1.img', 'pages-2.img', 'pages-3.img'].map((p) => files.get(p)!);
    for (const size of pages) expect(size % PAGE_BYTES).toBe(0);
    const sum = pages.reduce((a, b) => a + b, 0);
    expect(pages.map((s) => Math.round((s / sum) * 100))).toEqual([70, 20, 10]);
    expect(sum / result.bytes).toBeGreaterThan(0.95);
    expect([...files.keys()].filter((p) => p.startsWith('pages-'))).toHaveLength(3);
  });

  it('has medium files, a nested rootfs tree, hundreds of small files and empty files', () => {
    const names = [...files.keys()];
    const medium = names.filter((p) =>
      /^(ghost-file-.*\.img|tmpfs-dev-\d+\.tar\.gz\.img|pipes-data\.img)$/.test(p),
    );
    expect(medium).toHaveLength(30);
    const rootfs = names.filter((p) => p.startsWith('rootfs/'));
    expect(rootfs).toHaveLength(40);
    expect(Math.max(...rootfs.map((p) => p.split('/').length))).toBeGreaterThanOrEqual(6);
    const small = names.filter((p) => !p.includes('/') && !p.startsWith('pages-') && !medium.includes(p));
    expect(small.length).toBeGreaterThanOrEqual(150);
    expect(small.length).toBeLessThanOrEqual(400);
    for (const shared of [
      'inventory.img',
      'pstree.img',
      'files.img',
      'reg-files.img',
      'stats-dump',
      'cuda_pids',
      'parent_pid',
    ]) {
      expect(files.has(shared), shared).toBe(true);
    }
    expect(names.filter((p) => /^core-\d+\.img$/.test(p))).toHaveLength(120);
    for (const prefix of ['mm', 'ids', 'fs', 'sigacts', 'pagemap', 'fdinfo']) {
      expect(
        names.filter((p) => new RegExp(`^${prefix}-\\d+\\.img$`).test(p)),
        prefix,
      ).toHaveLength(8);
    }
    expect([...files.values()].filter((s) => s === 0).length).toBeGreaterThanOrEqual(1);
    expect(result.emptyFiles).toBe([...files.values()].filter((s) => s === 0).length);
    expect(result.directories).toBeGreaterThan(10);
  });

  it('mixes zero, random, repeated and compressible pages as the preset says', async () => {
    const bytes = await readFile(join(dir, 'pages-1.img'));
    const pages = bytes.length / PAGE_BYTES;
    const seen = new Map<string, number>();
    let zero = 0;
    for (let i = 0; i < pages; i++) {
      const page = bytes.subarray(i * PAGE_BYTES, (i + 1) * PAGE_BYTES);
      if (page.every((b) => b === 0)) zero++;
      else {
        const h = createHash('sha1').update(page).digest('hex');
        seen.set(h, (seen.get(h) ?? 0) + 1);
      }
    }
    expect(zero / pages).toBeGreaterThan(0.4);
    expect(zero / pages).toBeLessThan(0.5);
    const repeated = [...seen.values()].filter((n) => n > 1).reduce((a, b) => a + b, 0);
    expect(repeated / pages).toBeGreaterThan(0.1); // dictionary pages recur
    const nonZero = Buffer.concat(
      Array.from({ length: pages }, (_, i) => bytes.subarray(i * PAGE_BYTES, (i + 1) * PAGE_BYTES)).filter(
        (p) => p.some((b) => b !== 0),
      ),
    );
    const ratio = nonZero.length / gzipSync(nonZero).length;
    expect(ratio).toBeGreaterThan(1.0); // text pages compress…
    expect(ratio).toBeLessThan(1.5); // …random and dictionary pages do not
    expect(result.zeroFraction).toBeGreaterThan(0.4);
  });

  it('gives each preset its page mix', () => {
    const zeroShare = (preset: 'default' | 'mostly-zeros' | 'mostly-random') => {
      const s = summarizePlan(planCheckpoint(5, 0, { preset }));
      return s.zeroBytes / s.pagesBytes;
    };
    expect(zeroShare('default')).toBeCloseTo(0.45, 2);
    expect(zeroShare('mostly-zeros')).toBeCloseTo(0.8, 2);
    expect(zeroShare('mostly-random')).toBeCloseTo(0.1, 2);
  });
});

describe('generateCheckpoint: bad input', () => {
  it('refuses a non-empty directory and leaves it as it was', async () => {
    const dir = join(root, 'busy');
    await mkdir(dir);
    await writeFile(join(dir, 'keep'), 'x');
    const error = await generateCheckpoint(dir, { seed: 1, totalBytes: 2 * MiB }).catch((e) => e);
    expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    expect(error.message).toContain(dir);
    expect(await readdir(dir)).toEqual(['keep']);
    expect((await readdir(root)).filter((n) => n.includes('partial'))).toEqual([]);
  });

  it('refuses a target that is a file', async () => {
    const file = join(root, 'a-file');
    await writeFile(file, 'x');
    const error = await generateCheckpoint(file, { seed: 1, totalBytes: 2 * MiB }).catch((e) => e);
    expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    expect(error.message).toMatch(/not a directory/);
  });

  it('fills an existing empty directory', async () => {
    const dir = join(root, 'empty-target');
    await mkdir(dir);
    const r = await generateCheckpoint(dir, { seed: 1, totalBytes: 2 * MiB });
    expect((await listFiles(dir)).size).toBe(r.files);
  });

  it.each([
    [{ totalBytes: 1000 }, 'totalBytes'],
    [{ rewriteFraction: 1.5 }, 'rewriteFraction'],
    [{ preset: 'nope' }, 'preset'],
    [{ mix: { zero: -1 } }, 'mix.zero'],
    [{ regionBytes: { min: 10 * MiB, max: MiB } }, 'regionBytes'],
    [{ blockBytes: 5000 }, 'blockBytes'],
    [{ medium: { count: 1.5 } }, 'medium.count'],
    [{ pidChurn: 'yes' }, 'pidChurn'],
    [{ version: -1 }, 'version'],
    [{ seed: '' }, 'seed'],
  ])('rejects %j naming the field', async (bad, field) => {
    const options = { seed: 1, totalBytes: 2 * MiB, ...bad } as Parameters<typeof generateCheckpoint>[1];
    const error = await generateCheckpoint(join(root, 'never'), options).catch((e) => e);
    expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    expect(error.message).toContain(field);
    expect((await readdir(root)).filter((n) => n.includes('never'))).toEqual([]);
  });
});
