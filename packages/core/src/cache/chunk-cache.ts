import { randomBytes } from 'node:crypto';
import {
  closeSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  utimesSync,
  writeSync,
} from 'node:fs';
import { rm, utimes } from 'node:fs/promises';
import path from 'node:path';

/**
 * What names a chunk in the cache: the hex SHA-256 of its plain bytes, as a manifest or local record
 * gives it (`ChunkTable.hashOf`). Whatever ids the store uses for chunks, the cache is keyed by this
 * alone, so every model, generation and store of a host shares one entry per chunk.
 */
export type ChunkKey = string;

/** Default bound of a cache's bytes (`--cache-size`). */
export const DEFAULT_CACHE_BYTES = 20 * 2 ** 30;

/** Where a host keeps its chunk cache, and how large it may grow. */
export interface ChunkCacheOptions {
  dir: string;
  /** Entries beyond this many bytes are evicted, least recently used first. Default 20 GiB. */
  maxBytes?: number;
}

const KEY = /^[0-9a-f]{64}$/;

/**
 * A host-wide content-addressed chunk cache: one file per chunk, `<dir>/sha256/<key[0:2]>/<key>`,
 * holding the chunk's bytes and nothing else. Entries are written to `<dir>/tmp/` and renamed into
 * place, so a reader sees a whole entry or none, and many processes share the cache without a lock:
 * two writers of one chunk write the same bytes, and the last rename wins. Nothing here trusts an
 * entry: readers hash what they read (`cached-chunks.ts`) and discard an entry that does not match.
 * An entry's mtime is its last use (set when it is written, read or offered again); eviction removes
 * the oldest first (`cache-prune.ts`). Files and folders are the owner's alone: chunks are process
 * memory.
 */
export class ChunkCache {
  readonly dir: string;
  readonly maxBytes: number;
  /** Fan-out folders this process made or found, so that a write costs no `mkdir`. */
  readonly #folders = new Set<string>();
  /** What makes this instance's temp files' names its own; a count tells them apart. */
  readonly #tempTag = `${process.pid}.${randomBytes(4).toString('hex')}`;
  #temps = 0;

  constructor(options: ChunkCacheOptions) {
    this.dir = path.resolve(options.dir);
    this.maxBytes = options.maxBytes ?? DEFAULT_CACHE_BYTES;
  }

  /** The folder of the entries. */
  get entries(): string {
    return path.join(this.dir, 'sha256');
  }

  /** The folder writers write entries in before renaming them into place. */
  get temp(): string {
    return path.join(this.dir, 'tmp');
  }

  entryPath(key: ChunkKey): string {
    if (!KEY.test(key)) throw new Error(`not a chunk key: ${key}`);
    return path.join(this.entries, key.slice(0, 2), key);
  }

  /** True when an entry of `length` bytes is there (its bytes are checked when it is read). */
  holds(key: ChunkKey, length: number): boolean {
    const st = lstatSync(this.entryPath(key), { throwIfNoEntry: false });
    return st?.isFile() === true && st.size === length;
  }

  /**
   * Stores `data` as the entry of `key`, or marks an entry of the same length as used. Never
   * throws: the cache only saves downloads, and a full disk or a removed folder must not fail an
   * operation. True when the entry is there afterwards. Synchronous: an entry is a few system
   * calls on a small file, and a thread-pool round trip for each would cost more than the calls
   * (callers write a slice of entries per turn of the event loop).
   */
  putSync(key: ChunkKey, data: Uint8Array): boolean {
    try {
      const target = this.entryPath(key);
      if (this.holds(key, data.length)) {
        const now = new Date();
        utimesSync(target, now, now);
        return true;
      }
      const fan = path.dirname(target);
      if (!this.#folders.has(fan)) {
        mkdirSync(fan, { recursive: true, mode: 0o700 });
        mkdirSync(this.temp, { recursive: true, mode: 0o700 });
        this.#folders.add(fan);
      }
      const tmp = path.join(this.temp, `${key}.${this.#tempTag}.${++this.#temps}`);
      try {
        const fd = openSync(tmp, 'wx', 0o600);
        try {
          writeAll(fd, data);
        } finally {
          closeSync(fd);
        }
        renameSync(tmp, target);
      } catch (err) {
        rmSync(tmp, { force: true });
        throw err;
      }
      return true;
    } catch {
      this.#folders.clear(); // the folders may have been removed: make them again next time
      return false;
    }
  }

  /** Marks the entry of `key` as just used (eviction takes the least recently used first). */
  async touch(key: ChunkKey): Promise<boolean> {
    const now = new Date();
    return utimes(this.entryPath(key), now, now).then(
      () => true,
      () => false,
    );
  }

  /** Removes the entry of `key` (one whose bytes did not match it); gone already is fine. */
  async discard(key: ChunkKey): Promise<void> {
    await rm(this.entryPath(key), { force: true }).catch(() => undefined);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let done = 0; done < data.length; ) done += writeSync(fd, data, done, data.length - done);
}
