import type { ChunkRow, Manifest } from './manifest.js';

/** Where a chunk's bytes live in the store. */
export interface ChunkLocation {
  packId: string;
  offset: number;
  length: number;
}

/** The chunk and pack tables of a manifest being built: one row per distinct chunk. */
export class ChunkTable {
  readonly packs: string[] = [];
  readonly rows: ChunkRow[] = [];
  private readonly byHash = new Map<string, number>();
  private readonly packIndex = new Map<string, number>();

  indexOf(hash: string): number | undefined {
    return this.byHash.get(hash);
  }

  add(hash: string, at: ChunkLocation): number {
    const existing = this.byHash.get(hash);
    if (existing !== undefined) return existing;
    let pack = this.packIndex.get(at.packId);
    if (pack === undefined) {
      pack = this.packs.push(at.packId) - 1;
      this.packIndex.set(at.packId, pack);
    }
    const index = this.rows.push([pack, at.offset, at.length, hash]) - 1;
    this.byHash.set(hash, index);
    return index;
  }
}

/** hash → location for every chunk of `manifest`. */
export function chunkLocations(manifest: Manifest | undefined): Map<string, ChunkLocation> {
  const out = new Map<string, ChunkLocation>();
  if (!manifest) return out;
  for (const [pack, offset, length, hash] of manifest.chunks) {
    out.set(hash, { packId: manifest.packs[pack]!, offset, length });
  }
  return out;
}
