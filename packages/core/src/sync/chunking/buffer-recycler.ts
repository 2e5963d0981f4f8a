/**
 * Read buffers handed back once their chunks were consumed, for the next scans to read into:
 * reusing them keeps memory flat instead of leaving dropped buffers to the garbage collector.
 * Holds at most `limit` buffers of exactly `size` bytes, and lets them go after `idleMs` unused.
 */
export class BufferRecycler {
  readonly size: number;
  readonly #limit: number;
  readonly #idleMs: number;
  #free: ArrayBuffer[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(size: number, limit: number, idleMs = 1000) {
    this.size = size;
    this.#limit = limit;
    this.#idleMs = idleMs;
  }

  /** A free buffer, if any. */
  take(): ArrayBuffer | undefined {
    return this.#free.pop();
  }

  /** Keeps `buffer` for reuse when it has the standard size, is not detached and there is room. */
  give(buffer: ArrayBuffer): void {
    if (buffer.byteLength !== this.size || this.#free.length >= this.#limit) return;
    this.#free.push(buffer);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.clear(), this.#idleMs);
    this.#timer.unref();
  }

  /** Drops every free buffer. */
  clear(): void {
    clearTimeout(this.#timer);
    this.#free = [];
  }
}
