import { ChunkTable } from './chunk-table.js';
import type { Manifest } from './manifest.js';

/** Where a chunk's bytes live in the store. */
export interface ChunkLocation {
  packId: string;
  offset: number;
  length: number;
}

/** The chunk and pack tables of a manifest being built: one row per distinct chunk. */
export class ChunkTableBuilder {
  readonly packs: string[] = [];
  readonly rows = ChunkTable.empty();
  private readonly packIndex = new Map<string, number>();

  indexOf(hash: string): number | undefined {
    return this.rows.indexOf(hash);
  }

  add(hash: string, at: ChunkLocation): number {
    const existing = this.rows.indexOf(hash);
    if (existing !== undefined) return existing;
    let pack = this.packIndex.get(at.packId);
    if (pack === undefined) {
      pack = this.packs.push(at.packId) - 1;
      this.packIndex.set(at.packId, pack);
    }
    return this.rows.push(hash, pack, at.offset, at.length);
  }
}

/** The chunks of earlier manifests (the deduplication base), looked up by hash. */
export class ReusableChunks {
  readonly #manifests: Manifest[];
  readonly #missingPacks: ReadonlySet<string>;

  /** `missingPacks`: packs the store no longer has; their chunks are not known. */
  constructor(manifests: (Manifest | undefined)[], missingPacks: ReadonlySet<string> = new Set()) {
    this.#manifests = manifests.filter((m) => m !== undefined);
    this.#missingPacks = missingPacks;
  }

  get(hash: string): ChunkLocation | undefined {
    for (const m of this.#manifests) {
      const i = m.chunks.indexOf(hash);
      if (i === undefined) continue;
      const packId = m.packs[m.chunks.packOf(i)]!;
      if (this.#missingPacks.has(packId)) continue;
      return { packId, offset: m.chunks.offsetOf(i), length: m.chunks.lengthOf(i) };
    }
    return undefined;
  }

  has(hash: string): boolean {
    return this.get(hash) !== undefined;
  }
}
