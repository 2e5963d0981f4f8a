import { pruneIfFull } from './cache-prune.js';
import type { CacheWriter } from './cache-writer.js';
import type { ChunkCache, ChunkKey } from './chunk-cache.js';

/** Bytes of chunks copied for the cache and not yet written, at most. */
const PENDING_BYTES = 16 * 2 ** 20;
/** Bytes of entries handed to the writer thread at once, at most (a larger chunk goes alone). */
const SLAB_BYTES = 2 ** 20;

interface Slab {
  memory: SharedArrayBuffer;
  used: number;
  entries: { key: ChunkKey; at: number; length: number }[];
}

/**
 * Writes chunks into the cache behind an operation, with bounded memory: each chunk offered is
 * copied into a slab of shared memory (the caller's buffer is reused at once) that the writer
 * thread writes entries from once it is full (a message per chunk would cost about as much as
 * writing it), at most {@link PENDING_BYTES} of them taken. When no room is left, `offer` either
 * waits for it (a pull: every chunk it downloads belongs in the cache) or drops the chunk (a
 * push: the cache must not slow it). `finish` waits for the writes and prunes the cache when it
 * outgrew its bound.
 */
export class CacheFiller {
  readonly #cache: ChunkCache;
  readonly #writer: CacheWriter;
  readonly #wait: boolean;
  /** Slabs written and free for reuse. */
  readonly #free: SharedArrayBuffer[] = [];
  #filling: Slab | undefined;
  /** Bytes of slabs taken: being filled or written. */
  #pending = 0;
  /** Slabs handed to the writer and not answered yet. */
  #writing = 0;
  readonly #room: (() => void)[] = [];
  readonly #idle: (() => void)[] = [];
  /** Entries written or found already there. */
  stored = 0;
  /** Chunks dropped because the writes fell behind. */
  dropped = 0;

  constructor(cache: ChunkCache, writer: CacheWriter, options: { whenFull: 'wait' | 'drop' }) {
    this.#cache = cache;
    this.#writer = writer;
    this.#wait = options.whenFull === 'wait';
  }

  /**
   * Queues the entry of `key`: `length` bytes that `fill` copies. With `whenFull: 'drop'` the copy
   * is made before this returns (or never: the chunk is dropped), so the caller may reuse its
   * buffer at once.
   */
  async offer(key: ChunkKey, length: number, fill: (target: Buffer) => void): Promise<void> {
    for (;;) {
      const slab = this.#filling;
      if (slab && slab.used + length <= slab.memory.byteLength) {
        fill(Buffer.from(slab.memory, slab.used, length));
        slab.entries.push({ key, at: slab.used, length });
        slab.used += length;
        return;
      }
      if (slab) {
        this.#send();
        continue;
      }
      const size = Math.max(SLAB_BYTES, length);
      if (this.#pending > 0 && this.#pending + size > PENDING_BYTES) {
        if (!this.#wait) {
          this.dropped++;
          return;
        }
        await new Promise<void>((resolve) => this.#room.push(resolve));
        continue;
      }
      const memory = (size === SLAB_BYTES && this.#free.pop()) || new SharedArrayBuffer(size);
      this.#pending += size;
      this.#filling = { memory, used: 0, entries: [] };
    }
  }

  /** Waits until every queued entry is written, then prunes the cache if it is over its bound. */
  async finish(): Promise<void> {
    this.#send();
    if (this.#writing > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.stored > 0) await pruneIfFull(this.#cache).catch(() => undefined);
  }

  /** Hands the slab being filled to the writer thread. */
  #send(): void {
    const slab = this.#filling;
    if (!slab || slab.entries.length === 0) return;
    this.#filling = undefined;
    this.#writing++;
    // a failed write only costs its entries; its slab is not reused (a thread stopped mid-write
    // may still read it)
    let reusable = false;
    this.#writer
      .write(this.#cache, slab.memory, slab.entries)
      .then(
        (stored) => {
          this.stored += stored;
          reusable = slab.memory.byteLength === SLAB_BYTES;
        },
        () => undefined,
      )
      .finally(() => {
        this.#writing--;
        this.#pending -= slab.memory.byteLength;
        if (reusable) this.#free.push(slab.memory);
        for (const wake of this.#room.splice(0)) wake();
        if (this.#writing === 0) for (const done of this.#idle.splice(0)) done();
      });
  }
}
