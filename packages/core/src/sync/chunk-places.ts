import type { FileEntry, Manifest } from './manifest.js';

/** A place a chunk's bytes go: a file of the manifest, at an offset. */
export interface Place {
  file: FileEntry;
  offset: number;
}

/**
 * Where each chunk of a manifest goes in the files a pull writes (or a verify checks), indexed by
 * chunk in typed arrays: 12 bytes per chunk instead of an array and an object. A chunk that
 * appears in more than one place (repeated content) keeps its further places in a map.
 */
export class ChunkPlaces {
  readonly #files: FileEntry[] = [];
  /** Per chunk: 1 + the index in `#files` of its first place; 0 when no file needs it. */
  readonly #first: Int32Array;
  readonly #offset: Float64Array;
  /** Per chunk with several places: `[file, offset, file, offset, …]` beyond the first. */
  readonly #more = new Map<number, number[]>();
  #size = 0;

  /** The places of every chunk in the manifest's files that `include` accepts (default: all). */
  constructor(manifest: Manifest, include: (file: FileEntry) => boolean = () => true) {
    this.#first = new Int32Array(manifest.chunks.count);
    this.#offset = new Float64Array(manifest.chunks.count);
    for (const entry of manifest.entries) {
      if (entry.type !== 'file' || !include(entry)) continue;
      const file = this.#files.push(entry);
      let offset = 0;
      for (const x of entry.extents) {
        if (x < 0) {
          offset -= x;
          continue;
        }
        if (this.#first[x] === 0) {
          this.#first[x] = file;
          this.#offset[x] = offset;
          this.#size++;
        } else {
          const more = this.#more.get(x);
          if (more) more.push(file, offset);
          else this.#more.set(x, [file, offset]);
        }
        offset += manifest.chunks.lengthOf(x);
      }
    }
  }

  /** Distinct chunks needed. */
  get size(): number {
    return this.#size;
  }

  has(index: number): boolean {
    return this.#first[index] !== undefined && this.#first[index] !== 0;
  }

  /** Every chunk needed, in index order. */
  *indices(): Generator<number> {
    for (let i = 0; i < this.#first.length; i++) if (this.#first[i] !== 0) yield i;
  }

  /** Where chunk `index` goes (none when no file needs it). */
  places(index: number): Place[] {
    const first = this.#first[index];
    if (!first) return [];
    const out = [{ file: this.#files[first - 1]!, offset: this.#offset[index]! }];
    const more = this.#more.get(index) ?? [];
    for (let k = 0; k < more.length; k += 2)
      out.push({ file: this.#files[more[k]! - 1]!, offset: more[k + 1]! });
    return out;
  }

  /** The distinct paths of the files that need chunk `index`. */
  paths(index: number): string[] {
    return [...new Set(this.places(index).map((p) => p.file.path))];
  }
}
