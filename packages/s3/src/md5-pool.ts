import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { StoreError } from '@ckpt/core';
import { workerThreadStarted } from '@ckpt/core/cli';
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

interface Job {
  bytes: Uint8Array;
  /** Bytes already copied to the worker. */
  sent: number;
  /** Steps sent, and steps the worker has answered. */
  posted: number;
  answered: number;
  where: { operation?: string; key?: string };
  resolve(digest: string): void;
  reject(err: unknown): void;
}

interface Slot {
  worker: Worker;
  /** Shared with the worker: each step's bytes are copied here, never the caller's buffer handed over. */
  scratch: Uint8Array;
  job?: Job;
}

/**
 * Computes Content-MD5 (base64 MD5) of large bodies on worker threads, so the thread that drives
 * the HTTP requests does not spend its time hashing. Each job's bytes are copied (one memcpy, in
 * steps of 2 MiB) into a scratch buffer the worker shares: the caller's buffer is never
 * transferred or detached, and nothing refers to it once the promise has settled.
 *
 * Workers start on first use and keep the process alive only while they hash. A worker that dies
 * fails its job with `Internal` and is replaced on the next call. {@link close} stops them; after
 * it (and for the jobs it interrupts) hashing is done inline.
 */
export class Md5Pool {
  readonly #script: URL;
  readonly #threads: number;
  readonly #inlineBelow: number;
  readonly #slots: Slot[] = [];
  readonly #queue: Job[] = [];
  #closed = false;

  constructor(options: Md5PoolOptions = {}) {
    this.#script = options.script ?? workerScript();
    this.#threads = options.threads ?? (availableParallelism() > 2 ? 2 : 1);
    this.#inlineBelow = options.inlineBelow ?? MD5_INLINE_BELOW;
  }

  /** Worker threads running now. */
  get threads(): number {
    return this.#slots.length;
  }

  /**
   * The base64 MD5 of `bytes`. `bytes` must not change until the promise settles; `where` names
   * the operation and key in the `Internal` error a dying worker causes.
   */
  digest(bytes: Uint8Array, where: { operation?: string; key?: string } = {}): Promise<string> {
    if (this.#closed || bytes.length < this.#inlineBelow) return Promise.resolve(contentMd5(bytes));
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, sent: 0, posted: 0, answered: 0, where, resolve, reject });
      this.#dispatch();
    });
  }

  /** Terminates the workers; jobs still queued or running finish inline. */
  async close(): Promise<void> {
    this.#closed = true;
    const slots = this.#slots.splice(0);
    const jobs = this.#queue.splice(0);
    for (const slot of slots) {
      if (slot.job) jobs.push(slot.job);
      slot.job = undefined;
    }
    for (const job of jobs) job.resolve(contentMd5(job.bytes));
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      let slot: Slot | undefined;
      try {
        slot = this.#slots.find((s) => !s.job) ?? this.#spawn();
      } catch (cause) {
        const job = this.#queue.shift()!;
        job.reject(new StoreError('Internal', 'cannot start an MD5 worker', { ...job.where, cause }));
        continue;
      }
      if (!slot) return;
      slot.job = this.#queue.shift();
      slot.worker.ref();
      this.#step(slot);
    }
  }

  /** Copies the job's next steps into the free halves of the slot's scratch and sends them. */
  #step(slot: Slot): void {
    const job = slot.job!;
    while (job.posted - job.answered < 2 && (job.posted === 0 || job.sent < job.bytes.length)) {
      const offset = (job.posted++ % 2) * STEP;
      const length = Math.min(STEP, job.bytes.length - job.sent);
      slot.scratch.set(job.bytes.subarray(job.sent, job.sent + length), offset);
      job.sent += length;
      slot.worker.postMessage({ offset, length, last: job.sent === job.bytes.length } satisfies Md5Step);
    }
  }

  #spawn(): Slot | undefined {
    if (this.#slots.length >= this.#threads) return undefined;
    const shared = new SharedArrayBuffer(2 * STEP);
    const slot: Slot = {
      worker: new Worker(this.#script, { workerData: shared }),
      scratch: new Uint8Array(shared),
    };
    workerThreadStarted(slot.worker);
    slot.worker.unref();
    slot.worker.on('message', (reply: Md5Reply) => {
      const job = slot.job;
      if (!job) return;
      job.answered++;
      if (reply === null) return this.#step(slot);
      slot.job = undefined;
      slot.worker.unref();
      job.resolve(reply);
      this.#dispatch();
    });
    const fail = (cause: unknown) => {
      const index = this.#slots.indexOf(slot);
      if (index < 0) return;
      this.#slots.splice(index, 1);
      void slot.worker.terminate();
      const job = slot.job;
      slot.job = undefined;
      if (job) job.reject(new StoreError('Internal', 'the MD5 worker stopped', { ...job.where, cause }));
      this.#dispatch();
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', (code) => fail(new Error(`the MD5 worker exited with code ${code}`)));
    this.#slots.push(slot);
    return slot;
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
