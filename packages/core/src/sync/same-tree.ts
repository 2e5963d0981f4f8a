import type { ChunkTable } from './chunk-table.js';
import type { Manifest, ManifestEntry } from './manifest.js';

/**
 * True when `entries` (whose chunks are rows of `rows`) hold exactly the files of `base`: the
 * same paths, types, modes, sizes, bytes (chunk by chunk and zero run by zero run) and symlink
 * targets, and with `times`, the same modification times. Compared in place: no string per entry.
 */
export function sameTree(
  base: Manifest,
  entries: readonly ManifestEntry[],
  rows: ChunkTable,
  { times = false } = {},
): boolean {
  if (base.entries.length !== entries.length) return false;
  return entries.every((entry, i) => {
    const old = base.entries[i]!;
    if (old.path !== entry.path || old.type !== entry.type) return false;
    if (old.type === 'symlink' || entry.type === 'symlink')
      return old.type === 'symlink' && entry.type === 'symlink' && old.target === entry.target;
    if (old.mode !== entry.mode || (times && old.mtimeMs !== entry.mtimeMs)) return false;
    if (old.type === 'dir' || entry.type === 'dir') return true;
    return (
      old.size === entry.size &&
      old.extents.length === entry.extents.length &&
      old.extents.every((x, k) => {
        const y = entry.extents[k]!;
        return x < 0 || y < 0 ? x === y : base.chunks.sameHash(x, rows, y);
      })
    );
  });
}
