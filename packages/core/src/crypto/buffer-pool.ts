/**
 * Buffers kept from one object to the next (the stored bytes of objects being sealed): memory
 * already paged in, and no garbage of several MiB per object.
 */
export class BufferPool {
  readonly #free: ArrayBuffer[] = [];

  constructor(
    /** A new buffer of at least `length` bytes. */
    private readonly make: (length: number) => ArrayBuffer,
    /** Free buffers kept at most: about the objects in flight. */
    private readonly keep: number,
  ) {}

  /**
   * A free buffer of at least `length` bytes, else a new one, and then the free ones are dropped:
   * smaller than the objects now coming, they would stay beside the new ones.
   */
  take(length: number): ArrayBuffer {
    const i = this.#free.findIndex((b) => b.byteLength >= length);
    if (i >= 0) return this.#free.splice(i, 1)[0]!;
    this.#free.length = 0;
    return this.make(length);
  }

  /** `buffer` back, once nothing reads or writes it any more. */
  give(buffer: ArrayBuffer): void {
    if (this.#free.length < this.keep && buffer.byteLength > 0) this.#free.push(buffer);
  }
}
