import { pipeline, Transform } from 'node:stream';
import type { Backend, BackendGetOptions, BackendPutOptions } from '../backend.js';
import { abortError, StoreError, type StoreErrorCode } from '../errors.js';
import type { StoreOp } from '../retry.js';
import type { DeleteManyResult, GetResult, ObjectMeta, PutBody, PutResult } from '../store.js';
import { STORE_OPS } from './layer.js';
import { checkNumber } from './options.js';
import { mulberry32, type Random } from './random.js';
import { type Sleep, sleep } from './sleep.js';

export interface FaultOptions {
  /** Seed of the fault sequence: the same seed and the same order of calls give the same faults. */
  seed: number;
  /** Probability in `[0, 1]` that a request fails before it reaches the inner store. Default `0`. */
  errorRate?: number;
  /** Code of injected request errors. Default `'Unavailable'` (retryable). */
  errorCode?: StoreErrorCode;
  /** Each selected request first waits a uniform time in `[min, max]` ms. Default no delay. */
  delayMs?: [min: number, max: number];
  /** Probability in `[0, 1]` that a `get` body fails after part of its bytes. Default `0`. */
  truncateRate?: number;
  /** Code of the error a truncated body fails with. Default `'Unavailable'`. */
  truncateCode?: 'Unavailable' | 'Integrity';
  /**
   * Answer a request that arrives while this many of the selected operations are in flight
   * already (a `get` until its body closes) with a throttling error (`Unavailable`, `throttled`),
   * as a service does when asked too much at once. Default: never.
   */
  throttleAbove?: number;
  /** The operations faults apply to. Default all. */
  ops?: StoreOp[];
  /** How to wait. Default a timer that the request's `signal` cancels. */
  sleep?: Sleep;
}

/** How many faults a {@link FaultBackend} injected so far. */
export interface FaultCounts {
  errors: number;
  delays: number;
  truncations: number;
  /** Requests answered with throttling (`throttleAbove`). */
  throttled: number;
}

interface Plan {
  delayMs: number;
  fail: boolean;
  /** For a truncated `get`: the fraction of the body delivered before the error. */
  cutAt: number | undefined;
}

/**
 * Chaos for resilience tests: a backend over another one that injects errors before requests,
 * delays, and `get` bodies that fail after part of their bytes (a truncated body always errors, it
 * never ends early). It sits under the store, so the store's retries and resumed reads meet the
 * faults as they would meet a flaky network. Every decision comes from a seeded PRNG drawn
 * synchronously when a request starts, so a test that issues its requests in a fixed order sees
 * the same faults on every run.
 *
 * @example
 * ```ts
 * const store = new BackendStore(withFaults(new MemoryBackend(), { seed: 7, errorRate: 0.2, truncateRate: 0.1 }));
 * ```
 */
export class FaultBackend implements Backend {
  private readonly random: Random;
  private readonly ops: ReadonlySet<StoreOp>;
  private readonly errorRate: number;
  private readonly truncateRate: number;
  private readonly delay: [number, number] | undefined;
  private readonly sleep: Sleep;
  private readonly counts: FaultCounts = { errors: 0, delays: 0, truncations: 0, throttled: 0 };
  private readonly throttleAbove: number;
  private inFlight = 0;
  private peak = 0;

  constructor(
    private readonly inner: Backend,
    private readonly options: FaultOptions,
  ) {
    this.random = mulberry32(
      checkNumber('withFaults', 'seed', options.seed, { min: -(2 ** 53), integer: true }),
    );
    this.errorRate = checkNumber('withFaults', 'errorRate', options.errorRate ?? 0, { min: 0, max: 1 });
    this.truncateRate = checkNumber('withFaults', 'truncateRate', options.truncateRate ?? 0, {
      min: 0,
      max: 1,
    });
    if (options.delayMs) {
      const [min, max] = options.delayMs;
      checkNumber('withFaults', 'delayMs[0]', min, { min: 0 });
      this.delay = [min, checkNumber('withFaults', 'delayMs[1]', max, { min })];
    }
    this.throttleAbove =
      options.throttleAbove === undefined
        ? Number.POSITIVE_INFINITY
        : checkNumber('withFaults', 'throttleAbove', options.throttleAbove, { min: 1, integer: true });
    this.ops = new Set(options.ops ?? STORE_OPS);
    this.sleep = options.sleep ?? sleep;
  }

  /** Faults injected so far. */
  get injected(): Readonly<FaultCounts> {
    return { ...this.counts };
  }

  /** The most requests of the selected operations in flight at once (throttled ones not counted). */
  get peakInFlight(): number {
    return this.peak;
  }

  get name(): string {
    return this.inner.name;
  }

  get capabilities() {
    return this.inner.capabilities;
  }

  put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    return this.admitted('put', key, async () => {
      await this.inject('put', key, options.signal);
      return this.inner.put(key, body, options);
    });
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const done = this.admit('get', key);
    try {
      const cutAt = await this.inject('get', key, options.signal);
      const result = await this.inner.get(key, options);
      const body =
        cutAt === undefined
          ? result.body
          : truncated(result, key, Math.floor(cutAt * result.range.length), this.truncateCode);
      if (cutAt !== undefined) this.counts.truncations += 1;
      body.once('close', done);
      return { ...result, body };
    } catch (error) {
      done();
      throw error;
    }
  }

  head(key: string, options: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.admitted('head', key, async () => {
      await this.inject('head', key, options.signal);
      return this.inner.head(key, options);
    });
  }

  delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
    return this.admitted('delete', key, async () => {
      await this.inject('delete', key, options.signal);
      return this.inner.delete(key, options);
    });
  }

  get deleteBatch() {
    const batch = this.inner.deleteBatch;
    if (!batch) return undefined;
    return (keys: string[], options: { signal?: AbortSignal }): Promise<DeleteManyResult> =>
      this.admitted('deleteMany', keys[0] ?? '', async () => {
        await this.inject('deleteMany', keys[0] ?? '', options.signal);
        return batch.call(this.inner, keys, options);
      });
  }

  list(prefix: string, options: { startAfter?: string; signal?: AbortSignal }): AsyncIterable<ObjectMeta> {
    const injected = this.inject('list', prefix, options.signal);
    injected.catch(() => {}); // observed when the iteration starts
    const inner = this.inner;
    return (async function* () {
      await injected;
      yield* inner.list(prefix, options);
    })();
  }

  removeAbandoned(olderThanMs: number, options: { signal?: AbortSignal }) {
    return this.inner.removeAbandoned?.(olderThanMs, options) ?? Promise.resolve({ removed: 0, bytes: 0 });
  }

  async ensureExists(options: { signal?: AbortSignal }): Promise<void> {
    await this.inner.ensureExists?.(options);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  toStoreError(error: unknown, context: { operation: string; key?: string }) {
    return this.inner.toStoreError?.(error, context);
  }

  /** Runs `call` as one request in flight (see {@link admit}). */
  private async admitted<T>(op: StoreOp, key: string, call: () => Promise<T>): Promise<T> {
    const done = this.admit(op, key);
    try {
      return await call();
    } finally {
      done();
    }
  }

  /** Counts a request of `op` in flight until the returned function is called; throttles one too many. */
  private admit(op: StoreOp, key: string): () => void {
    if (!this.ops.has(op)) return () => {};
    if (this.inFlight >= this.throttleAbove) {
      this.counts.throttled += 1;
      throw new StoreError('Unavailable', 'injected fault: too many requests in flight', {
        operation: op,
        key,
        throttled: true,
      });
    }
    this.inFlight += 1;
    this.peak = Math.max(this.peak, this.inFlight);
    let done = false;
    return () => {
      if (!done) this.inFlight -= 1;
      done = true;
    };
  }

  private get truncateCode() {
    return this.options.truncateCode ?? 'Unavailable';
  }

  /** Draws this request's faults now (keeping the sequence deterministic), then applies them. */
  private inject(op: StoreOp, key: string, signal: AbortSignal | undefined): Promise<number | undefined> {
    const plan = this.plan(op);
    return (async () => {
      if (!plan) return undefined;
      if (plan.delayMs > 0) {
        this.counts.delays += 1;
        await this.sleep(plan.delayMs, signal).catch((error) => {
          throw abortError(signal, op, key) ?? error;
        });
      }
      if (plan.fail) {
        this.counts.errors += 1;
        throw new StoreError(this.options.errorCode ?? 'Unavailable', 'injected fault', {
          operation: op,
          key,
        });
      }
      return plan.cutAt;
    })();
  }

  private plan(op: StoreOp): Plan | undefined {
    if (!this.ops.has(op)) return undefined;
    const [min, max] = this.delay ?? [0, 0];
    const delayMs = min + this.random() * (max - min);
    const fail = this.random() < this.errorRate;
    if (op !== 'get') return { delayMs, fail, cutAt: undefined };
    const truncate = this.random() < this.truncateRate;
    const cutAt = this.random();
    return { delayMs, fail, cutAt: truncate ? cutAt : undefined };
  }
}

/** `result.body` cut after `keep` bytes, then failing with `code`; destroying it destroys the source. */
function truncated(result: GetResult, key: string, keep: number, code: StoreErrorCode) {
  let passed = 0;
  const cut = () =>
    new StoreError(code, `injected fault: body cut after ${keep} bytes`, { operation: 'get', key });
  const cutter = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      const room = keep - passed;
      if (chunk.length < room) {
        passed += chunk.length;
        return callback(null, chunk);
      }
      if (room > 0) this.push(chunk.subarray(0, room));
      passed = keep;
      callback(cut());
    },
    flush(callback) {
      callback(cut());
    },
  });
  return pipeline(result.body, cutter, () => {});
}

/** Wraps `backend` in a {@link FaultBackend}. */
export function withFaults(backend: Backend, options: FaultOptions): FaultBackend {
  return new FaultBackend(backend, options);
}
