import { randomBytes } from 'node:crypto';
import { throwIfAborted } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { packKey } from './layout.js';

export interface PackWriterOptions {
  /** Target pack size in bytes. */
  packSize: number;
  /** Pack bodies held by uploads at once; memory is about `(maxInFlight + 1) * packSize`. */
  maxInFlight: number;
  /**
   * Uploads running at once, counting those whose body the store has already released (see
   * `PutOptions.onBodyReleased`: a filesystem store's fsync and rename). Default `maxInFlight`.
   */
  maxUploads?: number;
  signal?: AbortSignal;
  /** Called as each pack's upload starts, with what it holds. */
  onUpload?: (pack: SealedPack) => void;
  /** Called once the store confirmed a pack, with the pack object's version token. */
  onStored?: (id: string, version: string) => void;
}

/** A pack on its way to the store, and the chunks in it. */
export interface SealedPack {
  id: string;
  size: number;
  /** The chunks added with a hash, in pack order. */
  chunks: PackedChunk[];
}

export interface PackedChunk {
  hash: string;
  offset: number;
  length: number;
}

/**
 * Gathers new chunks into pack objects of about `packSize` bytes and uploads them in the
 * background, at most `maxInFlight` at a time: many small chunks cost one request, and memory
 * stays bounded however much data flows through. A pack's buffer is reused as soon as the store
 * releases its body, which may be before the upload settles. Pack ids are random, so two writers
 * never collide, and a pack is only referenced once it is completely stored.
 */
export class PackWriter {
  private buffer: Buffer | undefined;
  /** Bytes of the pack being filled that chunks may take; its buffer has the store's `writeRoom` after them. */
  private capacity = 0;
  private used = 0;
  private id = '';
  /** The chunks of the pack being filled. */
  private chunks: PackedChunk[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  /** One promise per upload whose body the store still holds, settled when it lets go. */
  private readonly held = new Set<Promise<void>>();
  /** Pack buffers whose upload finished, reused for the next packs: memory stays flat, no garbage. */
  private readonly free: Buffer[] = [];
  private failure: unknown;
  /** The previous `addWith`: each waits for it (they may wait for an upload slot). */
  private turn: Promise<unknown> = Promise.resolve();
  readonly written: string[] = [];
  bytesStored = 0;

  constructor(
    private readonly store: ObjectStore,
    private readonly options: PackWriterOptions,
  ) {}

  /** Copies `data` into the current pack and returns where it will live. */
  add(data: Uint8Array): Promise<{ packId: string; offset: number }> {
    return this.addWith(data.length, (target) => {
      target.set(data);
    });
  }

  /**
   * Reserves `length` bytes in the current pack and lets `fill` write them in place, at once.
   * Calls may overlap: they take their turn, so that no pack is sealed, or replaced, between a
   * reservation and its fill. A chunk's `hash` is reported with its pack (`onUpload`).
   */
  addWith(
    length: number,
    fill: (target: Buffer) => void,
    hash?: string,
  ): Promise<{ packId: string; offset: number }> {
    const added = this.turn.then(async () => {
      this.check();
      if (!this.buffer || this.used + length > this.capacity) {
        await this.seal();
        const { packSize } = this.options;
        this.buffer =
          length <= packSize ? (this.free.pop() ?? this.allocate(packSize)) : this.allocate(length);
        this.capacity = Math.max(length, packSize);
        this.used = 0;
        this.id = randomBytes(16).toString('hex');
      }
      const offset = this.used;
      this.used += length;
      fill(this.buffer.subarray(offset, offset + length));
      if (hash !== undefined) this.chunks.push({ hash, offset, length });
      return { packId: this.id, offset };
    });
    this.turn = added.catch(() => {});
    return added;
  }

  /** Uploads what is left and waits for every upload. Returns the ids of all packs written. */
  async finish(): Promise<string[]> {
    await this.turn;
    await this.seal();
    await Promise.all(this.inFlight);
    this.check();
    return this.written;
  }

  /** Waits for running uploads without committing anything (used on failure). */
  async abandon(): Promise<void> {
    this.buffer = undefined;
    await Promise.allSettled(this.inFlight);
    this.free.length = 0;
  }

  private async seal(): Promise<void> {
    if (!this.buffer || this.used === 0) return;
    const buffer = this.buffer;
    const body = buffer.subarray(0, this.used);
    const id = this.id;
    const chunks = this.chunks;
    this.chunks = [];
    this.buffer = undefined;
    const { maxInFlight, maxUploads = maxInFlight, packSize, signal } = this.options;
    while (this.held.size >= maxInFlight || this.inFlight.size >= maxUploads) {
      await Promise.race(this.held.size >= maxInFlight ? this.held : this.inFlight);
      this.check();
    }
    let letGo = () => {};
    const held = new Promise<void>((resolve) => {
      letGo = resolve;
    });
    // stores keep no reference to a body once they released it or their put settled (the contract)
    const release = () => {
      if (!this.held.delete(held)) return;
      if (buffer.length === this.sized(packSize)) this.free.push(buffer);
      letGo();
    };
    this.held.add(held);
    this.options.onUpload?.({ id, size: body.length, chunks });
    const upload = this.store
      .put(packKey(id), body, { size: body.length, signal, onBodyReleased: release, inPlace: true })
      .then(({ version }) => {
        this.written.push(id);
        this.bytesStored += body.length;
        this.options.onStored?.(id, version);
      })
      .catch((err) => {
        this.failure ??= err;
      })
      .finally(() => {
        release();
        this.inFlight.delete(upload);
      });
    this.inFlight.add(upload);
  }

  /** A pack buffer for `length` bytes of chunks, and the room the store may use after them. */
  private allocate(length: number): Buffer {
    return Buffer.allocUnsafe(this.sized(length));
  }

  private sized(length: number): number {
    return length + (this.store.writeRoom?.(length) ?? 0);
  }

  private check(): void {
    throwIfAborted(this.options.signal, 'push');
    if (this.failure) throw this.failure;
  }
}
