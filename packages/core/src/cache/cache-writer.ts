import { WorkerPool } from '../worker-pool.js';
import type { ChunkCache, ChunkKey } from './chunk-cache.js';

/** Entries to write: each `length` bytes at `at` in `slab`. */
export interface CacheWriteRequest {
  dir: string;
  slab: SharedArrayBuffer;
  entries: { key: ChunkKey; at: number; length: number }[];
}

/** How many of a request's entries are in the cache afterwards. */
export interface CacheWriteReply {
  stored: number;
}

/**
 * The thread that writes cache entries, so that their system calls (a file created, written and
 * renamed per chunk) run beside an operation's own work instead of on its main thread. One
 * thread: entries are small files, and two threads creating files in one folder contend for it.
 * It starts when first needed and does not keep the process alive while idle.
 */
export class CacheWriter {
  readonly #pool = new WorkerPool<CacheWriteRequest, CacheWriteReply>(
    new URL('./cache-writer-worker.js', import.meta.url),
    { threads: 1, name: 'cache writer' },
  );

  /** Writes `entries` of `slab` into `cache`; resolves with how many are there afterwards. */
  async write(
    cache: ChunkCache,
    slab: SharedArrayBuffer,
    entries: CacheWriteRequest['entries'],
  ): Promise<number> {
    const reply = await this.#pool.run(
      { dir: cache.dir, slab, entries },
      { operation: 'cache write', key: cache.dir },
    );
    return reply.stored;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
