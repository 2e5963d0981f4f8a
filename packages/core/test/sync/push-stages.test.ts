// The push's planning and comparison stages, alone.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkTable } from '../../src/sync/chunk-table.js';
import type { LocalState } from '../../src/sync/local-state.js';
import type { Manifest, ManifestEntry } from '../../src/sync/manifest.js';
import { planReuse } from '../../src/sync/push-plan.js';
import { sameTree } from '../../src/sync/same-tree.js';
import type { ScannedFile } from '../../src/sync/scan.js';

const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');
const stamp = (ino: number) => ({ size: 10, mtimeNs: '1', ctimeNs: '1', ino: String(ino), dev: '1' });
const file = (path: string, ino: number, size = 10): ScannedFile => ({
  type: 'file',
  path,
  abs: `/d/${path}`,
  mode: 0o644,
  size,
  mtimeMs: 1,
  stat: { ...stamp(ino), size },
});

function manifest(entries: ManifestEntry[], hashes: string[]): Manifest {
  return {
    entries,
    chunks: ChunkTable.fromTuples(hashes.map((h, i) => [0, i * 10, 10, h] as const)),
    packs: ['p'],
  } as unknown as Manifest;
}

const recorded = manifest(
  [
    { path: 'a', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [0] },
    { path: 'b', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [1] },
    { path: 'z', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [-10] },
  ],
  [sha(1), sha(2)],
);
const previous = {
  stamps: { a: stamp(1), b: stamp(2), z: stamp(3) },
  manifest: recorded,
} as unknown as LocalState;

describe('planReuse', () => {
  it('takes unchanged files whose chunks are stored, reads the rest', () => {
    const stored = new Set([sha(1)]);
    const reused: string[] = [];
    const chunks = {
      has: (h: string) => stored.has(h),
      reuse: (h: string) => reused.push(h) - 1,
    };
    const plan = planReuse(
      [file('a', 1), file('b', 2), file('c', 4), file('e', 5, 0), file('z', 3), file('a2', 9)],
      previous,
      chunks,
    );
    // a: unchanged and stored; b: its chunk is gone; c, a2: unknown to the record; e: empty; z: zero run
    expect([...plan.reused.keys()]).toEqual(['a', 'e', 'z']);
    expect(plan.reused.get('a')).toEqual([0]);
    expect(plan.reused.get('z')).toEqual([-10]);
    expect(plan.zeroBytes).toBe(10);
    expect(plan.toRead.map((f) => f.path)).toEqual(['b', 'c', 'a2']);
    expect(reused).toEqual([sha(1)]);
  });

  it('reads a file whose stamp changed, and everything without a record', () => {
    const chunks = { has: () => true, reuse: () => 0 };
    expect(planReuse([file('a', 7)], previous, chunks).toRead).toHaveLength(1);
    expect(planReuse([file('a', 1)], undefined, chunks).toRead).toHaveLength(1);
  });
});

describe('sameTree', () => {
  const rows = ChunkTable.fromTuples([
    [3, 0, 10, sha(2)],
    [3, 10, 10, sha(1)],
  ]);
  const same: ManifestEntry[] = [
    { path: 'a', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [1] },
    { path: 'b', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [0] },
    { path: 'z', type: 'file', mode: 0o644, size: 10, mtimeMs: 1, extents: [-10] },
  ];
  it('compares chunks by hash wherever they sit in either table', () => {
    expect(sameTree(recorded, same, rows)).toBe(true);
    expect(sameTree(recorded, same, rows, { times: true })).toBe(true);
  });
  it('tells bytes, modes, times, zero runs, paths and symlink targets apart', () => {
    const changes: ManifestEntry[][] = [
      [{ ...same[0]!, extents: [0] } as ManifestEntry, same[1]!, same[2]!],
      [{ ...same[0]!, mode: 0o600 } as ManifestEntry, same[1]!, same[2]!],
      [same[0]!, same[1]!, { ...same[2]!, extents: [-9] } as ManifestEntry],
      [same[0]!, same[1]!, { ...same[2]!, path: 'y' }],
      [same[0]!, same[1]!],
      [same[0]!, same[1]!, { path: 'z', type: 'symlink', target: 'a' }],
    ];
    for (const entries of changes) expect(sameTree(recorded, entries, rows)).toBe(false);
    const later = [same[0]!, same[1]!, { ...same[2]!, mtimeMs: 2 }];
    expect(sameTree(recorded, later, rows)).toBe(true);
    expect(sameTree(recorded, later, rows, { times: true })).toBe(false);
  });
});
