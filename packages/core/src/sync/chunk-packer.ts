import type { CacheFiller } from '../cache/cache-filler.js';
import type { ChunkTableBuilder, ReusableChunks } from './chunk-table-builder.js';
import type { PackWriter } from './pack-writer.js';

/**
 * The chunk table of the generation being pushed: a chunk the bases already store is reused
 * where it is, a new one is copied into a pack (once, however many files hold it).
 */
export class ChunkPacker {
  readonly #table: ChunkTableBuilder;
  readonly #known: ReusableChunks;
  readonly #packs: PackWriter;
  /** Where new chunks are offered to the host's chunk cache, when there is one. */
  readonly #cache: CacheFiller | undefined;
  /** New chunks on their way into a pack: a second file with the same bytes waits for the first. */
  readonly #adding = new Map<string, Promise<number>>();
  #chunksNew = 0;

  constructor(table: ChunkTableBuilder, known: ReusableChunks, packs: PackWriter, cache?: CacheFiller) {
    this.#table = table;
    this.#known = known;
    this.#packs = packs;
    this.#cache = cache;
  }

  /** Distinct chunks this push stores (the others it reuses). */
  get chunksNew(): number {
    return this.#chunksNew;
  }

  /** True when chunk `hash` is stored already (in a base, or by this push). */
  has(hash: string): boolean {
    return this.#table.indexOf(hash) !== undefined || this.#known.has(hash);
  }

  /** The table index of a chunk {@link has} vouches for. */
  reuse(hash: string): number {
    const existing = this.#table.indexOf(hash);
    if (existing !== undefined) return existing;
    const at = this.#known.get(hash);
    if (!at) throw new Error(`chunk ${hash} is not stored`);
    return this.#table.add(hash, at);
  }

  /** The table index of chunk `hash`; a new chunk gets its bytes from `fill` (called at most once). */
  add(hash: string, length: number, fill: (target: Buffer) => void): Promise<number> | number {
    if (this.has(hash)) return this.reuse(hash);
    let added = this.#adding.get(hash);
    if (!added) {
      this.#chunksNew++;
      void this.#cache?.offer(hash, length, fill);
      added = this.#packs
        .addWith(length, fill, hash)
        .then(({ packId, offset }) => this.#table.add(hash, { packId, offset, length }));
      this.#adding.set(hash, added);
      const done = () => this.#adding.delete(hash);
      added.then(done, done);
    }
    return added;
  }
}
