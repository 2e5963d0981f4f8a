import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlockOpeners } from './open-job.js';
import { BATCH_BLOCKS, BLOCK, damaged, storedBlocks } from './sealed-blocks.js';

/** Batches awaited at once, beyond the one arriving. */
const IN_FLIGHT = 3;

/** A ranged read decrypted in place in the caller's shared buffer. */
export interface InPlaceRead {
  /** The inner store's body: the stored blocks from block `first` on, of an object of `blocks` blocks. */
  body: Readable;
  first: number;
  blocks: number;
  /**
   * Where plaintext `[from, to)` goes: the caller's `into`, `into[0]` being byte `from`. Its
   * buffer holds the stored bytes first, from the same place: it has room for them after `into`
   * (`EncryptedStore.readRoom`), and the inner store may have read them there already.
   */
  into: Uint8Array<SharedArrayBuffer>;
  /** The stored bytes' length. */
  stored: number;
  from: number;
  to: number;
}

/**
 * Decrypts a ranged read on worker threads in place, in the caller's shared buffer: each batch of
 * whole blocks is decrypted (its tags checked) while later bytes still arrive, its plaintext
 * written where it goes, which is never past where its own stored bytes were. So the batches run
 * one after the other, each once the one before it is done: a batch's plaintext overwrites only
 * stored bytes already decrypted, never those of a batch still to come. The body yields views of
 * `into` in order, each as soon as it is decrypted, as `GetOptions.into` promises. Ends only once
 * no thread writes into `into` and the inner body has closed, so the caller may reuse the buffer.
 */
export async function* openInPlace(
  workers: BlockOpeners,
  key: Uint8Array,
  read: InPlaceRead,
  name: string,
): AsyncGenerator<Uint8Array> {
  const { body, first, blocks, into, from, to } = read;
  const stored = new Uint8Array(into.buffer, into.byteOffset, read.stored);
  const batchBytes = storedBlocks(BATCH_BLOCKS);
  const pending: { end: number; failed: Promise<number>; done: boolean }[] = [];
  let previous: Promise<unknown> = Promise.resolve();
  let received = 0;
  let dispatched = 0;
  let next = first;
  let delivered = from;
  const dispatch = (length: number) => {
    const count = Math.ceil(length / storedBlocks(1));
    const job = {
      key,
      stored: into.buffer,
      at: into.byteOffset + dispatched,
      length,
      first: next,
      blocks,
      out: into.buffer,
      outAt: into.byteOffset,
      from,
      to,
    };
    const failed = previous.then(() => workers.open(job));
    previous = failed.catch(() => {}); // its failure is thrown in order below
    const batch = { end: Math.min(to, (next + count) * BLOCK), failed, done: false };
    // awaited in order below, or in `finally`
    failed.then(
      () => {
        batch.done = true;
      },
      () => {},
    );
    pending.push(batch);
    dispatched += length;
    next += count;
  };
  async function* settle() {
    const { end, failed } = pending.shift()!;
    const block = await failed;
    if (block >= 0) throw damaged(name, block);
    if (end > delivered) yield into.subarray(delivered - from, end - from);
    delivered = Math.max(delivered, end);
  }
  try {
    for await (const piece of body as AsyncIterable<Uint8Array>) {
      if (piece.buffer !== stored.buffer || piece.byteOffset !== stored.byteOffset + received)
        stored.set(piece, received);
      received += piece.length;
      while (received - dispatched >= batchBytes) dispatch(batchBytes);
      // what is decrypted goes on at once: the caller hashes and writes it while later bytes arrive
      while (pending.length > IN_FLIGHT || pending[0]?.done) yield* settle();
    }
    if (received > dispatched) dispatch(received - dispatched);
    else if (dispatched === 0 && first < blocks) throw damaged(name, first);
    while (pending.length > 0) yield* settle();
    if (next < blocks && next * BLOCK < to) throw damaged(name, next);
  } finally {
    body.destroy();
    await Promise.allSettled([...pending.map((p) => p.failed), finished(body)]);
  }
}
