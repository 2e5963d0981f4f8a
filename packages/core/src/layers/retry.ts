import { isReplayable } from '../body.js';
import { abortError, StoreError } from '../errors.js';
import type {
  DeleteManyResult,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
} from '../store.js';
import { StoreLayer, type StoreOp } from './layer.js';
import { checkNumber } from './options.js';
import type { Random } from './random.js';
import { type Sleep, sleep } from './sleep.js';

/** What {@link RetryOptions.onRetry} learns before each backoff. */
export interface RetryEvent {
  op: StoreOp;
  /** The key (the prefix for `list`, the first pending key for `deleteMany`). */
  key: string;
  /** 1 for the first retry, 2 for the second, … */
  attempt: number;
  /** How long the layer waits before this retry. */
  delayMs: number;
  /** The retryable error that caused it. */
  error: StoreError;
}

export interface RetryOptions {
  /** Retries after the first attempt. Default `4` (five attempts in all). */
  retries?: number;
  /** Backoff ceiling of the first retry; it doubles on each further retry. Default `100`. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default `5000`. */
  maxDelayMs?: number;
  /** Called before each backoff, e.g. to log. */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter. Default `Math.random`; inject a seeded one for reproducible tests. */
  random?: Random;
  /** How to wait. Default a timer that the request's `signal` cancels; inject for fast tests. */
  sleep?: Sleep;
}

/** True for the errors this layer retries: `StoreError`s marked `retryable` (by default `Unavailable`). */
export function isRetryable(error: unknown): error is StoreError {
  return StoreError.is(error) && error.retryable === true;
}

/**
 * Retries requests that fail with a retryable `StoreError`, with capped exponential backoff and
 * full jitter: before retry `n` (from 0) it waits a uniform random time in
 * `[0, min(maxDelayMs, baseDelayMs · 2ⁿ))`. An aborted `signal` ends the wait at once with `Aborted`.
 *
 * - `put` is retried only when its body is bytes; a stream is read once, so its failure is final,
 *   and so is the failure of a put whose store released the body (`onBodyReleased`).
 * - `get` is retried until the body stream is returned; a body that fails later is the caller's.
 * - `list` resumes after the last key it yielded (`startAfter`), so a listing that fails midway
 *   continues without repeating or skipping keys; the retry budget restarts after progress.
 * - `deleteMany` retries the keys whose per-key errors are retryable.
 *
 * @example
 * ```ts
 * const store = withRetry(new S3Store(options), { retries: 6, onRetry: (e) => log.warn(e.error.message) });
 * ```
 */
export class RetryLayer extends StoreLayer {
  private readonly retries: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly random: Random;
  private readonly sleep: Sleep;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;

  constructor(inner: ObjectStore, options: RetryOptions = {}) {
    super(inner);
    this.retries = checkNumber('withRetry', 'retries', options.retries ?? 4, { min: 0, integer: true });
    this.baseDelayMs = checkNumber('withRetry', 'baseDelayMs', options.baseDelayMs ?? 100, { min: 0 });
    this.maxDelayMs = checkNumber('withRetry', 'maxDelayMs', options.maxDelayMs ?? 5000, { min: 0 });
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
    this.onRetry = options.onRetry;
  }

  override put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    if (!isReplayable(body)) return this.inner.put(key, body, options);
    // the caller may reuse a released body: no attempt may follow the one that released it
    let released = false;
    const release = options?.onBodyReleased;
    const onBodyReleased = () => {
      released = true;
      release?.();
    };
    const each = release ? { ...options, onBodyReleased } : options;
    return this.attempt(
      'put',
      key,
      options?.signal,
      () => this.inner.put(key, body, each),
      () => !released,
    );
  }

  override get(key: string, options?: GetOptions): Promise<GetResult> {
    return this.attempt('get', key, options?.signal, () => this.inner.get(key, options));
  }

  override head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.attempt('head', key, options?.signal, () => this.inner.head(key, options));
  }

  override delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.attempt('delete', key, options?.signal, () => this.inner.delete(key, options));
  }

  override async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    let startAfter = options.startAfter;
    for (let retry = 0; ; retry++) {
      let progressed = false;
      try {
        for await (const meta of this.inner.list(prefix, { ...options, startAfter })) {
          progressed = true;
          startAfter = meta.key;
          yield meta;
        }
        return;
      } catch (error) {
        if (progressed) retry = 0;
        if (!isRetryable(error) || retry >= this.retries) throw error;
        await this.backoff('list', prefix, retry, error, options.signal);
      }
    }
  }

  override async deleteMany(
    keys: string[],
    options: { signal?: AbortSignal } = {},
  ): Promise<DeleteManyResult> {
    let pending = keys;
    const final: DeleteManyResult['errors'] = [];
    for (let retry = 0; ; retry++) {
      let cause: unknown;
      try {
        const { errors } = await this.inner.deleteMany(pending, options);
        const transient = errors.filter((e) => isRetryable(e.error));
        final.push(...errors.filter((e) => !isRetryable(e.error)));
        if (transient.length === 0 || retry >= this.retries) return { errors: [...final, ...transient] };
        pending = transient.map((e) => e.key);
        cause = transient[0]?.error;
      } catch (error) {
        if (!isRetryable(error) || retry >= this.retries) throw error;
        cause = error;
      }
      await this.backoff('deleteMany', pending[0] ?? '', retry, cause as StoreError, options.signal);
    }
  }

  private async attempt<T>(
    op: StoreOp,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    mayRetry: () => boolean = () => true,
  ) {
    for (let retry = 0; ; retry++) {
      try {
        return await call();
      } catch (error) {
        if (!isRetryable(error) || retry >= this.retries || !mayRetry()) throw error;
        await this.backoff(op, key, retry, error, signal);
      }
    }
  }

  private async backoff(op: StoreOp, key: string, retry: number, error: StoreError, signal?: AbortSignal) {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    const delayMs = Math.floor(this.random() * ceiling);
    this.onRetry?.({ op, key, attempt: retry + 1, delayMs, error });
    try {
      await this.sleep(delayMs, signal);
    } catch (sleepError) {
      throw abortError(signal, op, key) ?? sleepError;
    }
  }
}

/** Wraps `store` in a {@link RetryLayer}. */
export function withRetry(store: ObjectStore, options?: RetryOptions): RetryLayer {
  return new RetryLayer(store, options);
}
