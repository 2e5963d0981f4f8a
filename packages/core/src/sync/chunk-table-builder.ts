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

/** False for a stored chunk that is not there: its pack gone or short, or its bytes damaged. */
export type IntactCheck = (packId: string, offset: number, length: number) => boolean;

/** Chunks and the packs they lie in, as a manifest holds them. */
export type StoredChunks = Pick<Manifest, 'packs' | 'chunks'>;

/** The chunks of earlier manifests (the deduplication base), looked up by hash. */
export class ReusableChunks {
  readonly #manifests: StoredChunks[];
  readonly #intact: IntactCheck;

  /** A chunk `intact` refuses is not known: it is uploaded again. */
  constructor(manifests: (StoredChunks | undefined)[], intact: IntactCheck = () => true) {
    this.#manifests = manifests.filter((m) => m !== undefined);
    this.#intact = intact;
  }

  get(hash: string): ChunkLocation | undefined {
    for (const m of this.#manifests) {
      const i = m.chunks.indexOf(hash);
      if (i === undefined) continue;
      const at = {
        packId: m.packs[m.chunks.packOf(i)]!,
        offset: m.chunks.offsetOf(i),
        length: m.chunks.lengthOf(i),
      };
      if (this.#intact(at.packId, at.offset, at.length)) return at;
    }
    return undefined;
  }

  has(hash: string): boolean {
    return this.get(hash) !== undefined;
  }
}
