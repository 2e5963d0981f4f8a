import { availableParallelism } from 'node:os';
import { StoreError } from '@ckpt/core';
import { type PoolWorker, WorkerPool } from '@ckpt/core/backend';
import { contentMd5 } from './wire.js';

const MiB = 1024 * 1024;

/**
 * Bodies shorter than this are hashed on the calling thread: below it, hashing inline costs less
 * than handing the body to a worker (copy, messages, latency), and short bodies never queue
 * behind multi-MiB ones (`node packages/s3/bench/md5.mjs sizes` measures the crossover;
 * docs/benchmarks.md).
 */
export const MD5_INLINE_BELOW = 128 * 1024;

/**
 * Bytes copied to a worker per step. A job is hashed in steps, two at a time in flight (the pool
 * copies into one half of the worker's scratch while the worker hashes the other), so the scratch
 * is `2 × STEP` whatever the body size.
 */
const STEP = 2 * MiB;

/** One step of a job, pool → worker: hash `scratch[offset, offset + length)`; `last` ends the job. */
export interface Md5Step {
  offset: number;
  length: number;
  last: boolean;
}

/** A worker's answer to a step: `null`, or after the last step the base64 digest. */
export type Md5Reply = string | null;

/** Options of {@link Md5Pool}. */
export interface Md5PoolOptions {
  /** Worker threads. Default: 2, or 1 on a machine with at most 2 CPUs (the main thread needs one). */
  threads?: number;
  /** Bodies shorter than this are hashed inline. Default {@link MD5_INLINE_BELOW}. */
  inlineBelow?: number;
  /** The worker script. Default: `md5-worker.js` next to this module (tests pass a broken one). */
  script?: URL;
}

/**
 * Computes Content-MD5 (base64 MD5) of large bodies on worker threads (core's {@link WorkerPool}),
 * so the thread that drives the HTTP requests does not spend its time hashing. Each job's bytes
 * are copied (one memcpy, in steps of 2 MiB) into a scratch buffer its thread shares: the
 * caller's buffer is never transferred or detached, and nothing refers to it once the promise
 * has settled.
 *
 * Threads start on first use and keep the process alive only while they hash. A thread that dies
 * fails its job with `Internal` and is replaced on the next call. {@link close} stops them; after
 * it (and for the jobs it interrupts) hashing is done inline.
 */
export class Md5Pool {
  readonly #pool: WorkerPool<Md5Step, Md5Reply, SharedArrayBuffer>;
  readonly #inlineBelow: number;
  #closed = false;

  constructor(options: Md5PoolOptions = {}) {
    this.#pool = new WorkerPool(options.script ?? workerScript(), {
      threads: options.threads ?? (availableParallelism() > 2 ? 2 : 1),
      name: 'MD5 worker',
      // each thread's scratch: the job copies a step into one half while the thread hashes the other
      workerData: () => new SharedArrayBuffer(2 * STEP),
    });
    this.#inlineBelow = options.inlineBelow ?? MD5_INLINE_BELOW;
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#pool.threads;
  }

  /**
   * The base64 MD5 of `bytes`. `bytes` must not change until the promise settles; `where` names
   * the operation and key in the `Internal` error a dying worker causes.
   */
  async digest(bytes: Uint8Array, where: { operation?: string; key?: string } = {}): Promise<string> {
    if (this.#closed || bytes.length < this.#inlineBelow) return contentMd5(bytes);
    try {
      return await this.#pool.withWorker((worker) => hashSteps(worker, bytes), where);
    } catch (err) {
      if (this.#closed && StoreError.is(err, 'Aborted')) return contentMd5(bytes);
      throw err;
    }
  }

  /** Terminates the workers; jobs still queued or running finish inline. */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#pool.close();
  }
}

/** Hashes `bytes` on `worker` in steps of at most {@link STEP}, two in flight; the base64 digest. */
async function hashSteps(worker: PoolWorker<Md5Step, Md5Reply, SharedArrayBuffer>, bytes: Uint8Array) {
  const scratch = new Uint8Array(worker.data);
  let sent = 0;
  let posted = 0;
  const send = () => {
    const offset = (posted++ % 2) * STEP;
    const length = Math.min(STEP, bytes.length - sent);
    scratch.set(bytes.subarray(sent, sent + length), offset);
    sent += length;
    worker.post({ offset, length, last: sent === bytes.length });
  };
  send();
  if (sent < bytes.length) send();
  for (;;) {
    const reply = await worker.reply();
    if (reply !== null) return reply;
    // the step just answered freed its half of the scratch
    if (sent < bytes.length) send();
  }
}

/**
 * `md5-worker.js` next to this module. Under vitest the sources run as `.ts` and Node cannot start
 * a `.ts` worker: the built one in `dist/` is used (build first, as for core's chunker tests).
 */
function workerScript(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/md5-worker.js', import.meta.url)
    : new URL('./md5-worker.js', import.meta.url);
}
