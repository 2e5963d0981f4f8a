import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkPlaces } from '../../src/sync/chunk-places.js';
import { ChunkTable } from '../../src/sync/chunk-table.js';
import type { FileEntry, Manifest } from '../../src/sync/manifest.js';

const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');
const file = (path: string, extents: number[], size: number): FileEntry => ({
  path,
  type: 'file',
  mode: 0o644,
  size,
  mtimeMs: 0,
  extents,
});

describe('ChunkPlaces', () => {
  // chunks 0..3 of 10, 20, 30, 40 bytes; chunk 3 is in no file
  const chunks = ChunkTable.fromTuples([0, 1, 2, 3].map((i) => [0, i * 100, (i + 1) * 10, sha(i)] as const));
  const a = file('a', [0, -5, 1, 0], 45);
  const b = file('d/b', [2, 1], 50);
  const manifest = {
    chunks,
    entries: [a, { path: 'd', type: 'dir', mode: 0o755, mtimeMs: 0 }, b],
  } as unknown as Manifest;

  it('knows every place of every chunk, repeated ones included', () => {
    const targets = new ChunkPlaces(manifest);
    expect(targets.size).toBe(3);
    expect([...targets.indices()]).toEqual([0, 1, 2]);
    expect(targets.has(3)).toBe(false);
    expect(targets.has(99)).toBe(false);
    expect(targets.places(0)).toEqual([
      { file: a, offset: 0 },
      { file: a, offset: 35 },
    ]);
    expect(targets.places(1)).toEqual([
      { file: a, offset: 15 },
      { file: b, offset: 30 },
    ]);
    expect(targets.places(3)).toEqual([]);
    expect(targets.paths(0)).toEqual(['a']);
    expect(targets.paths(1)).toEqual(['a', 'd/b']);
  });

  it('leaves out the files it is told to skip', () => {
    const targets = new ChunkPlaces(manifest, (f) => f.path !== 'a');
    expect([...targets.indices()]).toEqual([1, 2]);
    expect(targets.places(1)).toEqual([{ file: b, offset: 30 }]);
    expect(targets.places(0)).toEqual([]);
  });
});
