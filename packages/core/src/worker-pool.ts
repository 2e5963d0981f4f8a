import { type TransferListItem, Worker } from 'node:worker_threads';
import { StoreError, type StoreErrorCode } from './errors.js';
import { workerThreadStarted } from './process-memory.js';

/** Options of {@link WorkerPool}. */
export interface WorkerPoolOptions<Data> {
  /** Worker threads at most. */
  threads: number;
  /** What the threads are, in errors: `the ${name} stopped`. */
  name: string;
  /**
   * Makes each thread's `workerData` as it starts; a job sees it as {@link PoolWorker.data} (a
   * `SharedArrayBuffer` here is memory the job and its thread both reach).
   */
  workerData?: () => Data;
}

/** How a job waits for a thread. */
export interface WorkerJobOptions {
  /** Goes to the front of the queue. */
  urgent?: boolean;
  /** True when the job comes to a thread: it is dropped with `Aborted` instead. */
  cancelled?: () => boolean;
  /** Named in the errors the pool makes for the job. */
  operation?: string;
  key?: string;
}

/** Options of {@link WorkerPool.run}. */
export interface WorkerRunOptions extends WorkerJobOptions {
  /** Moved to the thread with the request (detached here), not copied. */
  transfer?: TransferListItem[];
}

/** The thread a job of {@link WorkerPool.withWorker} holds until it settles. */
export interface PoolWorker<Req, Res, Data> {
  /** This thread's `workerData` (see {@link WorkerPoolOptions.workerData}). */
  readonly data: Data;
  /** Sends `message` to the thread, moving the `transfer` buffers. */
  post(message: Req, transfer?: TransferListItem[]): void;
  /**
   * The thread's next message. Rejects with `Internal` when the thread stops first and with
   * `Aborted` when the pool is closed.
   */
  reply(): Promise<Res>;
}

interface Job<Req, Res, Data> extends WorkerJobOptions {
  work(worker: PoolWorker<Req, Res, Data>): Promise<unknown>;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

interface Slot<Res, Data> {
  worker: Worker;
  data: Data;
  busy: boolean;
  /** Messages the job has not asked for yet, and the job waiting for one. */
  inbox: Res[];
  waiting?: { resolve(message: Res): void; reject(err: unknown): void };
  /** Why no message will come any more (the thread stopped, the pool closed). */
  failure?: StoreError;
}

/**
 * Up to `threads` worker threads running one script, fed from a FIFO queue (urgent jobs first).
 * A thread starts when a job finds none free (or on {@link warm}), never before, and keeps the
 * process alive only while it runs a job: an idle pool never holds the process open. A thread
 * that stops (crash, uncaught error, `terminate`) fails its job with `Internal` and is replaced
 * when a later job needs it. {@link close} stops every thread.
 *
 * A job is one request and one reply ({@link run}) or a conversation with one thread that it
 * holds until it settles ({@link withWorker}): several steps through memory the thread shares.
 */
export class WorkerPool<Req, Res, Data = undefined> {
  readonly #script: URL;
  readonly #options: WorkerPoolOptions<Data>;
  readonly #slots: Slot<Res, Data>[] = [];
  readonly #queue: Job<Req, Res, Data>[] = [];
  #closed = false;

  constructor(script: URL, options: WorkerPoolOptions<Data>) {
    if (!Number.isSafeInteger(options.threads) || options.threads < 1) {
      throw new StoreError('InvalidArgument', 'must be a positive integer', {
        operation: `${options.name} pool`,
        key: 'threads',
      });
    }
    this.#script = script;
    this.#options = options;
  }

  /** Threads running now. */
  get threads(): number {
    return this.#slots.length;
  }

  /** Sends `request` to the next free thread and resolves with its reply. */
  run(request: Req, options: WorkerRunOptions = {}): Promise<Res> {
    return this.withWorker((worker) => {
      worker.post(request, options.transfer);
      return worker.reply();
    }, options);
  }

  /**
   * Runs `work` with the next free thread, which no other job uses until `work` settles. Rejects
   * with `Aborted` once the pool is closed (and, through {@link PoolWorker.reply}, a job that
   * the close interrupts), or when `cancelled()` is true as the job comes to a thread.
   */
  withWorker<T>(
    work: (worker: PoolWorker<Req, Res, Data>) => Promise<T>,
    options: WorkerJobOptions = {},
  ): Promise<T> {
    if (this.#closed)
      return Promise.reject(this.#error('Aborted', `the ${this.#options.name} pool is closed`, options));
    return new Promise<T>((resolve, reject) => {
      const job: Job<Req, Res, Data> = {
        ...options,
        work,
        resolve: resolve as (value: unknown) => void,
        reject,
      };
      if (options.urgent) this.#queue.unshift(job);
      else this.#queue.push(job);
      this.#dispatch();
    });
  }

  /** Starts every thread now (a start takes tens of milliseconds) rather than on first use. */
  warm(): void {
    while (!this.#closed && this.#slots.length < this.#options.threads) this.#spawn();
  }

  /** Stops every thread; queued jobs and the replies running jobs wait for fail with `Aborted`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const job of this.#queue.splice(0)) {
      job.reject(this.#error('Aborted', `the ${this.#options.name} pool was closed`, job));
    }
    const slots = this.#slots.splice(0);
    for (const slot of slots)
      this.#fail(slot, this.#error('Aborted', `the ${this.#options.name} pool was closed`));
    await Promise.all(slots.map((slot) => this.#stop(slot)));
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const job = this.#queue[0] as Job<Req, Res, Data>;
      if (job.cancelled?.()) {
        this.#queue.shift();
        job.reject(this.#error('Aborted', 'cancelled before it started', job));
        continue;
      }
      let slot = this.#slots.find((s) => !s.busy);
      if (!slot && this.#slots.length < this.#options.threads) {
        try {
          slot = this.#spawn();
        } catch (cause) {
          this.#queue.shift();
          job.reject(this.#error('Internal', `cannot start the ${this.#options.name}`, job, cause));
          continue;
        }
      }
      if (!slot) return;
      this.#queue.shift();
      this.#start(slot, job);
    }
  }

  #start(slot: Slot<Res, Data>, job: Job<Req, Res, Data>): void {
    slot.busy = true;
    slot.worker.ref();
    const worker: PoolWorker<Req, Res, Data> = {
      data: slot.data,
      post: (message, transfer = []) => {
        if (!slot.failure) slot.worker.postMessage(message, transfer);
      },
      reply: () => {
        if (slot.inbox.length > 0) return Promise.resolve(slot.inbox.shift() as Res);
        if (slot.failure) return Promise.reject(this.#named(slot.failure, job));
        return new Promise<Res>((resolve, reject) => {
          slot.waiting = { resolve, reject: (err) => reject(this.#named(err as StoreError, job)) };
        });
      },
    };
    let settled: Promise<unknown>;
    try {
      settled = job.work(worker);
    } catch (err) {
      settled = Promise.reject(err);
    }
    settled
      .then(job.resolve, (err: unknown) => {
        // a job that failed on its own may have left its thread busy with what it sent: no later
        // job may read that thread's replies
        if (!slot.failure) this.#retire(slot, this.#error('Internal', 'its job failed', {}, err));
        job.reject(err);
      })
      .finally(() => {
        slot.busy = false;
        slot.inbox.length = 0;
        slot.waiting = undefined;
        // a failed slot is being stopped (#stop): it stays ref()ed until its thread has exited
        if (!slot.failure) slot.worker.unref();
        this.#dispatch();
      });
  }

  #spawn(): Slot<Res, Data> {
    const data = this.#options.workerData?.() as Data;
    const slot: Slot<Res, Data> = {
      worker: new Worker(this.#script, data === undefined ? {} : { workerData: data }),
      data,
      busy: false,
      inbox: [],
    };
    workerThreadStarted(slot.worker);
    slot.worker.unref();
    slot.worker.on('message', (message: Res) => {
      if (!slot.busy) return;
      const waiting = slot.waiting;
      slot.waiting = undefined;
      if (waiting) waiting.resolve(message);
      else slot.inbox.push(message);
    });
    const stopped = (cause: unknown) => {
      this.#retire(slot, this.#error('Internal', `the ${this.#options.name} stopped`, {}, cause));
      this.#dispatch();
    };
    slot.worker.on('error', stopped);
    slot.worker.on('exit', (code) =>
      stopped(new Error(`the ${this.#options.name} exited with code ${code}`)),
    );
    this.#slots.push(slot);
    return slot;
  }

  /** Takes `slot` out of the pool and stops its thread; its job fails with `failure`. */
  #retire(slot: Slot<Res, Data>, failure: StoreError): void {
    const index = this.#slots.indexOf(slot);
    if (index < 0) return;
    this.#slots.splice(index, 1);
    void this.#stop(slot);
    this.#fail(slot, failure);
  }

  /**
   * Terminates `slot`'s thread, keeping the process alive until it has exited. An unref()ed
   * worker's terminate() promise holds nothing open, and a thread busy in native code (a read, a
   * hash, a system call) only stops once that returns: an awaited close() whose threads were idle
   * or just released would otherwise leave the event loop empty with close() pending, and Node
   * exits with 13 ("unsettled top-level await") instead of finishing the caller's clean-up.
   */
  #stop(slot: Slot<Res, Data>): Promise<number> {
    slot.worker.ref();
    return slot.worker.terminate();
  }

  /** No message will come to `slot` any more: its job's waiting and later replies fail with `failure`. */
  #fail(slot: Slot<Res, Data>, failure: StoreError): void {
    slot.failure ??= failure;
    const waiting = slot.waiting;
    slot.waiting = undefined;
    waiting?.reject(slot.failure);
  }

  /** `err` (made by the pool, naming no job) again, naming the job's operation and key. */
  #named(err: StoreError, job: WorkerJobOptions): StoreError {
    if (job.operation === undefined && job.key === undefined) return err;
    return this.#error(err.code, err.message, job, err.cause);
  }

  #error(code: StoreErrorCode, detail: string, job: WorkerJobOptions = {}, cause?: unknown): StoreError {
    return new StoreError(code, detail, { operation: job.operation, key: job.key, cause });
  }
}
