import { abortable, StoreError } from './errors.js';

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
 * Part-sized buffers for one put, reused once a part is uploaded (an S3 part, an Azure block), so
 * a put in parts allocates about `concurrency + 1` of them whatever the object size.
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

/** A block read before a put knew whether it fits one request; `pooled` when it lives in a part buffer. */
export interface HeadBlock {
  bytes: Buffer;
  pooled?: Buffer;
}

/**
 * Reads a body up to `threshold` bytes: `complete` when it ended within it (one request), else
 * the first blocks of a put in parts. A body whose declared `size` is within `threshold` is read
 * as one block (a view of a bytes body, never a copy); otherwise the first block is read at its
 * real size (small objects stay small) and, once it is full, the rest come from `buffers`. A body
 * longer or (when complete) shorter than `size` fails with `Integrity` before anything is sent.
 */
export async function readHead(
  reader: BlockReader,
  buffers: PartBuffers,
  threshold: number,
  options: { size?: number; signal?: AbortSignal; key: string },
): Promise<{ blocks: HeadBlock[]; complete: boolean }> {
  const { size, signal, key } = options;
  const whole = size !== undefined && size <= threshold;
  const blocks: HeadBlock[] = [{ bytes: await reader.read(whole ? size : buffers.partSize, signal) }];
  let bytes = blocks[0]!.bytes.length;
  if (whole) bytes += (await reader.read(1, signal)).length; // a byte past `size` fails below
  while (
    !whole &&
    bytes === blocks.length * buffers.partSize &&
    bytes <= threshold &&
    (size === undefined || bytes <= size)
  ) {
    const pooled = buffers.take();
    const block = await reader.readInto(pooled, signal);
    if (block.length === 0) {
      buffers.give(pooled);
      break;
    }
    blocks.push({ bytes: block, pooled });
    bytes += block.length;
  }
  const complete = bytes <= threshold;
  if (size !== undefined && (bytes > size || (complete && bytes !== size))) {
    const got = bytes > size ? `more than ${size}` : String(bytes);
    throw new StoreError('Integrity', `body has ${got} bytes, expected ${size}`, { operation: 'put', key });
  }
  return { blocks, complete };
}

/** Options of {@link sendParts}. */
export interface SendPartsOptions {
  /** Parts in flight at once. */
  concurrency: number;
  /** Most parts one object may have (S3: 10,000; Azure: 50,000 blocks). */
  maxParts: number;
  /** How the service calls a part, for messages: `part` or `block` (and the `<what>Size` option). */
  what: string;
  /** The declared body length, when known. */
  size?: number;
  key: string;
  signal?: AbortSignal;
}

/**
 * Sends `first` (blocks {@link readHead} read) and the rest of `reader` as parts, numbered from
 * 0, at most `concurrency` in flight, each read into a buffer of `buffers` that goes back once
 * its part is sent. Resolves to the bytes sent. Any failure, a body longer or shorter than
 * `size`, or the caller's signal cancels the parts in flight (their `signal` fires), waits for
 * them to settle and rethrows the first error.
 */
export async function sendParts(
  first: HeadBlock[],
  reader: BlockReader,
  buffers: PartBuffers,
  options: SendPartsOptions,
  send: (body: Buffer, index: number, signal: AbortSignal) => Promise<void>,
): Promise<number> {
  const { concurrency, maxParts, what, size, key } = options;
  const cancel = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, cancel.signal]) : cancel.signal;
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let total = 0;
  let count = 0;
  const checkLength = (atEnd: boolean) => {
    if (size === undefined || (total <= size && (!atEnd || total === size))) return;
    const detail = total > size ? `more than ${size}` : `${total}`;
    throw new StoreError('Integrity', `body has ${detail} bytes, expected ${size}`, {
      operation: 'put',
      key,
    });
  };
  const start = (body: Buffer, release?: () => void) => {
    if (count === maxParts) {
      throw new StoreError(
        'InvalidArgument',
        `the body needs more than ${maxParts} ${what}s of ${buffers.partSize} bytes: pass options.size or a larger ${what}Size`,
        { operation: 'put', key },
      );
    }
    const index = count++;
    total += body.length;
    checkLength(false);
    const task: Promise<void> = send(body, index, signal).then(
      () => release?.(),
      (error: unknown) => {
        failures.push(error);
        cancel.abort();
      },
    );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  };
  const slot = async () => {
    while (inFlight.size >= concurrency) await Promise.race(inFlight);
    if (failures.length > 0) throw failures[0];
  };
  try {
    for (const { bytes, pooled } of first.splice(0)) {
      await slot();
      start(bytes, pooled ? () => buffers.give(pooled) : undefined);
    }
    for (;;) {
      await slot();
      const buffer = buffers.take();
      const block = await reader.readInto(buffer, options.signal);
      if (block.length === 0) break;
      start(block, () => buffers.give(buffer));
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
    checkLength(true);
    return total;
  } catch (error) {
    cancel.abort();
    await Promise.allSettled(inFlight);
    throw error;
  }
}
