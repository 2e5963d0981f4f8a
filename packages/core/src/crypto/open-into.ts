import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlockOpeners } from './open-job.js';
import { BATCH_BLOCKS, BLOCK, damaged, storedBlocks } from './sealed-blocks.js';

/** Batches decrypted at once, beyond the one arriving. */
const IN_FLIGHT = 3;

/** A ranged read's stored bytes and where their plaintext goes, all in shared memory. */
export interface SharedRead {
  /** The inner store's body: the stored blocks from block `first` on, of an object of `blocks` blocks. */
  body: Readable;
  first: number;
  blocks: number;
  /** Where the stored bytes are gathered (the inner store may have read them into it already). */
  stored: Uint8Array<SharedArrayBuffer>;
  /** Where plaintext `[from, to)` goes: the caller's `into`, `into[0]` being byte `from`. */
  into: Uint8Array<SharedArrayBuffer>;
  from: number;
  to: number;
}

/**
 * Decrypts a ranged read on worker threads straight into the caller's shared buffer: each
 * batch of whole blocks is decrypted (its tags checked) while later bytes still arrive, and the
 * body yields views of `into` in order, each as soon as it and those before it are decrypted, as
 * `GetOptions.into` promises. Ends only once no thread
 * writes into `into` and the inner body has closed, so the caller may reuse both buffers.
 */
export async function* openInto(
  workers: BlockOpeners,
  key: Uint8Array,
  read: SharedRead,
  name: string,
): AsyncGenerator<Uint8Array> {
  const { body, first, blocks, stored, into, from, to } = read;
  const batchBytes = storedBlocks(BATCH_BLOCKS);
  const pending: { end: number; failed: Promise<number>; done: boolean }[] = [];
  let received = 0;
  let dispatched = 0;
  let next = first;
  let delivered = from;
  const dispatch = (length: number) => {
    const count = Math.ceil(length / storedBlocks(1));
    const failed = workers.open({
      key,
      stored: stored.buffer,
      at: stored.byteOffset + dispatched,
      length,
      first: next,
      blocks,
      out: into.buffer,
      outAt: into.byteOffset,
      from,
      to,
    });
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
