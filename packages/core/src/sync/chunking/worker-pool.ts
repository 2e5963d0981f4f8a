import { Worker } from 'node:worker_threads';
import { StoreError } from '../../errors.js';
import { workerThreadStarted } from '../../process-memory.js';

/** How a job runs: `urgent` goes to the front of the queue, `transfer` moves buffers to the worker. */
export interface RunOptions {
  urgent?: boolean;
  cancelled?: () => boolean;
  transfer?: ArrayBuffer[];
}

interface Job<Req, Res> {
  request: Req;
  transfer: ArrayBuffer[];
  resolve(value: Res): void;
  reject(err: unknown): void;
  /** Dropped without running when true at dispatch time. */
  cancelled?: () => boolean;
}

interface Slot<Req, Res> {
  worker: Worker;
  job?: Job<Req, Res>;
}

/**
 * A fixed number of worker threads running one script, fed from a FIFO queue (urgent jobs go
 * first). Workers start on first use and keep the process alive only while they have work.
 * A worker that crashes fails its job with `Internal` and is replaced on demand.
 */
export class WorkerPool<Req, Res> {
  readonly #script: URL;
  readonly #size: number;
  readonly #slots: Slot<Req, Res>[] = [];
  readonly #queue: Job<Req, Res>[] = [];
  #closed = false;

  constructor(script: URL, size: number) {
    this.#script = script;
    this.#size = size;
  }

  /**
   * Runs `request` on the next free worker (moving the `transfer` buffers to it); `cancelled()`
   * true at dispatch time rejects with `Aborted`.
   */
  run(request: Req, options: RunOptions = {}): Promise<Res> {
    if (this.#closed) return Promise.reject(new StoreError('Aborted', 'the chunker pool is closed'));
    return new Promise<Res>((resolve, reject) => {
      const job = {
        request,
        transfer: options.transfer ?? [],
        resolve,
        reject,
        cancelled: options.cancelled,
      };
      if (options.urgent) this.#queue.unshift(job);
      else this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Starts every worker now (a start takes tens of milliseconds) rather than on first use. */
  warm(): void {
    while (!this.#closed && this.#spawn());
  }

  /** Stops every worker; queued and running jobs fail with `Aborted`. */
  async close(): Promise<void> {
    this.#closed = true;
    const closed = new StoreError('Aborted', 'the chunker pool was closed');
    for (const job of this.#queue.splice(0)) job.reject(closed);
    const slots = this.#slots.splice(0);
    for (const slot of slots) slot.job?.reject(closed);
    await Promise.all(slots.map((slot) => slot.worker.terminate()));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0] as Job<Req, Res>;
      if (job.cancelled?.()) {
        this.#queue.shift();
        job.reject(new StoreError('Aborted', 'the scan was cancelled'));
        continue;
      }
      const slot = this.#slots.find((s) => !s.job) ?? this.#spawn();
      if (!slot) return;
      this.#queue.shift();
      slot.job = job;
      slot.worker.ref();
      slot.worker.postMessage(job.request, job.transfer);
    }
  }

  #spawn(): Slot<Req, Res> | undefined {
    if (this.#slots.length >= this.#size) return undefined;
    const slot: Slot<Req, Res> = { worker: new Worker(this.#script) };
    workerThreadStarted(slot.worker);
    slot.worker.unref();
    slot.worker.on('message', (message: Res) => this.#settle(slot, (job) => job.resolve(message)));
    const fail = (err: unknown) => {
      const index = this.#slots.indexOf(slot);
      if (index < 0) return;
      this.#slots.splice(index, 1);
      const error = new StoreError('Internal', 'a chunk worker stopped', { cause: err });
      this.#settle(slot, (job) => job.reject(error));
    };
    slot.worker.on('error', fail);
    slot.worker.on('exit', fail);
    this.#slots.push(slot);
    return slot;
  }

  #settle(slot: Slot<Req, Res>, finish: (job: Job<Req, Res>) => void): void {
    const job = slot.job;
    slot.job = undefined;
    slot.worker.unref();
    if (job) finish(job);
    this.#dispatch();
  }
}
