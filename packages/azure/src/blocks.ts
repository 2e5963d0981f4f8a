import { StoreError } from '@ckpt/core';
import { abortable } from '@ckpt/core/backend';

/**
 * Cuts a byte stream into blocks of a requested size, holding at most one block plus one source
 * chunk. A Uint8Array body (one chunk) is sliced without copying.
 */
export class BlockReader {
  private readonly iterator: AsyncIterator<Uint8Array>;
  private leftover: Uint8Array | undefined;
  private ended = false;

  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly key: string,
  ) {
    this.iterator = source[Symbol.asyncIterator]();
  }

  /**
   * The next `size` bytes; fewer only at the end of the stream, empty once it is exhausted.
   * Rejects with `Aborted` as soon as `signal` fires, even while the source is stalled.
   */
  async read(size: number, signal?: AbortSignal): Promise<Buffer> {
    const pieces: Uint8Array[] = [];
    const have = await this.fill(size, signal, (piece) => pieces.push(piece));
    const only = pieces.length === 1 ? pieces[0] : undefined;
    if (only) return Buffer.from(only.buffer, only.byteOffset, only.byteLength);
    return Buffer.concat(pieces, have);
  }

  /** Like {@link read}, but copies the next `target.length` bytes into `target` (a reused buffer). */
  async readInto(target: Buffer, signal?: AbortSignal): Promise<Buffer> {
    let offset = 0;
    const have = await this.fill(target.length, signal, (piece) => {
      target.set(piece, offset);
      offset += piece.byteLength;
    });
    return target.subarray(0, have);
  }

  /** Stops reading early: releases (destroys) the source. */
  async close(): Promise<void> {
    if (this.ended) return;
    this.ended = true;
    this.leftover = undefined;
    await this.iterator.return?.();
  }

  /** Hands up to `size` bytes to `sink`, piece by piece; returns how many. */
  private async fill(size: number, signal: AbortSignal | undefined, sink: (piece: Uint8Array) => void) {
    let have = 0;
    while (have < size) {
      const chunk = this.leftover ?? (await this.next(signal));
      this.leftover = undefined;
      if (chunk === undefined) break;
      const take = Math.min(size - have, chunk.byteLength);
      if (take < chunk.byteLength) this.leftover = chunk.subarray(take);
      sink(take < chunk.byteLength ? chunk.subarray(0, take) : chunk);
      have += take;
    }
    return have;
  }

  private async next(signal: AbortSignal | undefined): Promise<Uint8Array | undefined> {
    if (this.ended) return undefined;
    const step = await abortable(this.iterator.next(), signal, 'put', this.key);
    if (step.done) {
      this.ended = true;
      return undefined;
    }
    if (!(step.value instanceof Uint8Array)) {
      throw new StoreError('InvalidArgument', 'the body yielded a chunk that is not bytes', {
        operation: 'put',
        key: this.key,
      });
    }
    return step.value;
  }
}

/**
 * Block-sized buffers for one put, reused once a block is staged, so a put allocates
 * about `concurrency + 1` of them whatever the object size.
 */
export class PartBuffers {
  private readonly spare: Buffer[] = [];

  constructor(readonly partSize: number) {}

  /** A free buffer of `partSize` bytes (contents undefined). */
  take(): Buffer {
    return this.spare.pop() ?? Buffer.allocUnsafe(this.partSize);
  }

  /** Returns a buffer from {@link take} once nothing reads it any more. */
  give(buffer: Buffer): void {
    this.spare.push(buffer);
  }
}
