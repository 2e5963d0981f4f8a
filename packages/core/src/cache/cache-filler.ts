import { pruneIfFull } from './cache-prune.js';
import type { ChunkCache, ChunkKey } from './chunk-cache.js';

/** Bytes of chunks copied for the cache and not yet written, by default. */
const PENDING_BYTES = 16 * 2 ** 20;
/** Bytes of entries written in one turn of the event loop. */
const SLICE_BYTES = 1024 * 1024;

/**
 * Writes chunks into the cache behind an operation, with bounded memory: each chunk offered is
 * copied (the caller's buffer is reused at once) and written between the operation's other work, at most
 * {@link PENDING_BYTES} of them waiting. When that is full, `offer` either waits for room (a pull:
 * every chunk it downloads belongs in the cache) or drops the chunk (a push: the cache must not slow
 * it). `finish` waits for the writes and prunes the cache when it outgrew its bound.
 */
export class CacheFiller {
  readonly #cache: ChunkCache;
  readonly #wait: boolean;
  readonly #queue: { key: ChunkKey; data: Uint8Array }[] = [];
  readonly #room: (() => void)[] = [];
  #pending = 0;
  #scheduled = false;
  readonly #idle: (() => void)[] = [];
  /** Entries written or found already there. */
  stored = 0;
  /** Chunks dropped because the writes fell behind. */
  dropped = 0;

  constructor(cache: ChunkCache, options: { whenFull: 'wait' | 'drop' }) {
    this.#cache = cache;
    this.#wait = options.whenFull === 'wait';
  }

  /** Queues the entry of `key`: `length` bytes that `fill` copies (at once, or not at all when dropped). */
  async offer(key: ChunkKey, length: number, fill: (target: Buffer) => void): Promise<void> {
    while (this.#pending > 0 && this.#pending + length > PENDING_BYTES) {
      if (!this.#wait) {
        this.dropped++;
        return;
      }
      await new Promise<void>((resolve) => this.#room.push(resolve));
    }
    const data = Buffer.allocUnsafe(length);
    fill(data);
    this.#pending += length;
    this.#queue.push({ key, data });
    this.#pump();
  }

  /** Waits until every queued entry is written, then prunes the cache if it is over its bound. */
  async finish(): Promise<void> {
    if (this.#queue.length > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
    if (this.stored > 0) await pruneIfFull(this.#cache).catch(() => undefined);
  }

  /** Writes queued entries, about {@link SLICE_BYTES} per turn of the event loop, until none is left. */
  #pump(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      let written = 0;
      while (written < SLICE_BYTES && this.#queue.length > 0) {
        const { key, data } = this.#queue.shift()!;
        if (this.#cache.putSync(key, data)) this.stored++;
        this.#pending -= data.length;
        written += data.length;
      }
      for (const wake of this.#room.splice(0)) wake();
      if (this.#queue.length > 0) this.#pump();
      else for (const done of this.#idle.splice(0)) done();
    });
  }
}
