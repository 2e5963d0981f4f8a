import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import type { BlockOpeners } from './open-job.js';
import { BLOCK, damaged, storedBlocks } from './sealed-blocks.js';

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
 * Stored bytes a job waits for unless the read has ended: every job costs a message to a thread
 * and back and two wake-ups, so fewer, larger jobs spend less on them, and one job's wait stays
 * small beside the read's.
 */
const MIN_JOB = storedBlocks(64);

/** A decryption handed to a thread: plaintext up to `end` once `failed` settles to -1. */
interface Job {
  end: number;
  failed: Promise<number>;
  done: boolean;
}

/**
 * Decrypts a ranged read on worker threads in place, in the caller's shared buffer: the whole
 * blocks that have arrived are decrypted (their tags checked) while later bytes still arrive, their
 * plaintext written where it goes, which is never past where their own stored bytes were. So one
 * job of a read runs at a time, a job's plaintext overwriting only stored bytes already decrypted;
 * each takes every whole block that arrived while the one before it ran (at least
 * {@link MIN_JOB} bytes until the read ends). The body yields views of `into` in order, each as
 * soon as it is decrypted, as `GetOptions.into` promises. Ends only once no thread writes into
 * `into` and the inner body has closed, so the caller may reuse the buffer.
 */
export async function* openInPlace(
  workers: BlockOpeners,
  key: Uint8Array,
  read: InPlaceRead,
  name: string,
): AsyncGenerator<Uint8Array> {
  const { body, first, blocks, into, from, to } = read;
  const stored = new Uint8Array(into.buffer, into.byteOffset, read.stored);
  const blockBytes = storedBlocks(1);
  const jobs: Job[] = [];
  let received = 0;
  let dispatched = 0;
  let ended = false;
  /** Set once the read stops, whatever the reason: no job may start after it. */
  let stopped = false;
  let next = first;
  let delivered = from;
  let wake: () => void = () => {};
  /** Hands the blocks that arrived (at the end, the rest) to a thread, unless a job runs. */
  const dispatch = () => {
    if (stopped || jobs.at(-1)?.done === false) return; // only the last job can be running
    const waiting = received - dispatched;
    const length = ended ? waiting : waiting - (waiting % blockBytes);
    if (length <= 0 || (!ended && length < MIN_JOB)) return;
    const count = Math.ceil(length / blockBytes);
    const failed = workers.open({
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
    });
    const job: Job = { end: Math.min(to, (next + count) * BLOCK), failed, done: false };
    const settled = (block: number) => {
      job.done = true;
      if (block < 0) dispatch(); // a failed job's error is thrown in order below, and ends the read
      wake();
    };
    failed.then(settled, () => settled(0));
    jobs.push(job);
    dispatched += length;
    next += count;
  };
  /** The jobs done, in order: their plaintext delivered, or the first failure thrown. */
  async function* deliver() {
    while (jobs[0]?.done) {
      const { end, failed } = jobs.shift()!;
      const block = await failed;
      if (block >= 0) throw damaged(name, block);
      if (end > delivered) yield into.subarray(delivered - from, end - from);
      delivered = Math.max(delivered, end);
    }
  }
  try {
    for await (const piece of body as AsyncIterable<Uint8Array>) {
      if (piece.buffer !== stored.buffer || piece.byteOffset !== stored.byteOffset + received)
        stored.set(piece, received);
      received += piece.length;
      dispatch();
      // what is decrypted goes on at once: the caller hashes and writes it while later bytes arrive
      yield* deliver();
    }
    ended = true;
    if (received === 0 && first < blocks) throw damaged(name, first);
    dispatch();
    while (jobs.length > 0) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        if (jobs[0]?.done) resolve();
      });
      yield* deliver();
    }
    if (next < blocks && next * BLOCK < to) throw damaged(name, next);
  } finally {
    stopped = true;
    body.destroy();
    await Promise.allSettled([...jobs.map((j) => j.failed), finished(body)]);
  }
}
