import { abortError, StoreError } from './errors.js';
import { checkNumber } from './layers/options.js';
import type { Random } from './layers/random.js';
import { type Sleep, sleep } from './layers/sleep.js';
import { countRetry } from './telemetry.js';

/** The operations of a store, as named in retries, events and metrics. */
export type StoreOp = 'put' | 'get' | 'head' | 'list' | 'delete' | 'deleteMany';

/** What {@link RetryOptions.onRetry} learns before each backoff. */
export interface RetryEvent {
  op: StoreOp;
  /** The key (the prefix for `list`, the first pending key for `deleteMany`). */
  key: string;
  /** 1 for the first retry, 2 for the second, … */
  attempt: number;
  /** How long the store waits before this retry. */
  delayMs: number;
  /** The retryable error that caused it. */
  error: StoreError;
}

/** How a store retries failed requests: the one retry policy of ckpt. */
export interface RetryOptions {
  /** Attempts in all, the first included; `1` never retries. Default `5`. */
  attempts?: number;
  /** Backoff ceiling of the first retry; it doubles on each further retry. Default `100`. */
  baseDelayMs?: number;
  /** Largest backoff ceiling. Default `5000`. */
  maxDelayMs?: number;
  /**
   * No retry starts later than this many ms after the request began (or, for a listing or a
   * body being read, after it last made progress). Default `60000`.
   */
  maxElapsedMs?: number;
  /** Called before each backoff, e.g. to log. */
  onRetry?: (event: RetryEvent) => void;
  /** Source of jitter. Default `Math.random`; inject a seeded one for reproducible tests. */
  random?: Random;
  /** How to wait. Default a timer that the request's `signal` cancels; inject for fast tests. */
  sleep?: Sleep;
}

/** True for the errors a store retries: `StoreError`s marked `retryable` (by default `Unavailable`). */
export function isRetryable(error: unknown): error is StoreError {
  return StoreError.is(error) && error.retryable === true;
}

/**
 * Capped exponential backoff with full jitter: before retry `n` (from 0) a uniform random wait in
 * `[0, min(maxDelayMs, baseDelayMs · 2ⁿ))`, within an attempt count and an elapsed-time bound.
 */
export class RetryPolicy {
  private readonly attempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxElapsedMs: number;
  private readonly random: Random;
  private readonly sleep: Sleep;
  private readonly onRetry: ((event: RetryEvent) => void) | undefined;

  constructor(options: RetryOptions = {}) {
    const check = (field: string, value: number, min: number, integer = false) =>
      checkNumber('retry', field, value, { min, integer });
    this.attempts = check('attempts', options.attempts ?? 5, 1, true);
    this.baseDelayMs = check('baseDelayMs', options.baseDelayMs ?? 100, 0);
    this.maxDelayMs = check('maxDelayMs', options.maxDelayMs ?? 5000, 0);
    this.maxElapsedMs = check('maxElapsedMs', options.maxElapsedMs ?? 60_000, 0);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? sleep;
    this.onRetry = options.onRetry;
  }

  /** A retry budget for one request (or one listing, one body). */
  start(op: StoreOp, key: string, signal: AbortSignal | undefined): Retries {
    return new Retries(this, op, key, signal);
  }

  /** Runs `call`, again after a backoff while it fails with a retryable error and `mayRetry()`. */
  async run<T>(
    op: StoreOp,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    mayRetry: () => boolean = () => true,
  ): Promise<T> {
    const retries = this.start(op, key, signal);
    for (;;) {
      try {
        return await call();
      } catch (error) {
        if (!mayRetry()) throw error;
        await retries.backoff(error);
      }
    }
  }

  /** @internal */
  async wait(
    op: StoreOp,
    key: string,
    retry: number,
    startedAt: number,
    error: unknown,
    signal?: AbortSignal,
  ) {
    if (!isRetryable(error) || retry + 1 >= this.attempts) throw error;
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** retry);
    const delayMs = Math.floor(this.random() * ceiling);
    if (performance.now() - startedAt + delayMs > this.maxElapsedMs) throw error;
    countRetry(op);
    this.onRetry?.({ op, key, attempt: retry + 1, delayMs, error });
    try {
      await this.sleep(delayMs, signal);
    } catch (sleepError) {
      throw abortError(signal, op, key) ?? sleepError;
    }
  }
}

/** The retries left to one request. */
export class Retries {
  private retry = 0;
  private startedAt = performance.now();

  constructor(
    private readonly policy: RetryPolicy,
    private readonly op: StoreOp,
    private readonly key: string,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /** Throws `error` when it is not retryable or the budget is spent; else waits before the next attempt. */
  async backoff(error: unknown): Promise<void> {
    await this.policy.wait(this.op, this.key, this.retry, this.startedAt, error, this.signal);
    this.retry++;
  }

  /** The request made progress (a key listed, bytes read): the budget starts again. */
  progressed(): void {
    this.retry = 0;
    this.startedAt = performance.now();
  }
}
