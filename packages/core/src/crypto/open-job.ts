import { openBlocksInto } from './sealed-blocks.js';

/** Decrypting stored blocks in shared memory into shared memory on a thread (see `openBlocksInto`). */
export interface OpenJob {
  key: Uint8Array;
  /** The stored blocks: `length` bytes from `at`, the first of them block `first` of `blocks`. */
  stored: SharedArrayBuffer;
  at: number;
  length: number;
  first: number;
  blocks: number;
  /** Where plaintext byte `from` goes; only `[from, to)` is written. */
  out: SharedArrayBuffer;
  outAt: number;
  from: number;
  to: number;
}

/** Threads that run {@link OpenJob}s (the engine's file workers). */
export interface BlockOpeners {
  /** Runs `job` on a thread: the first block that does not decrypt, or -1. */
  open(job: OpenJob): Promise<number>;
}

/** Runs `job` on this thread: the first block that does not decrypt, or -1. */
export function runOpenJob(job: OpenJob): number {
  const { key, stored, at, length, first, blocks, out, outAt, from, to } = job;
  return openBlocksInto(
    key,
    new Uint8Array(stored, at, length),
    first,
    blocks,
    new Uint8Array(out, outAt, to - from),
    from,
    to,
  );
}
