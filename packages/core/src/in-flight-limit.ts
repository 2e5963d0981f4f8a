import { abortError } from './errors.js';
import { checkNumber } from './layers/options.js';

/** How a request held in an {@link InFlightLimit} ended. */
export type RequestOutcome = 'ok' | 'throttled' | 'other';

/** A request's place in an {@link InFlightLimit}, from `acquire` to `release`. */
export interface Slot {
  /** The limit's epoch when the request started: a throttling answer lowers the limit once per epoch. */
  readonly epoch: number;
  released: boolean;
}

/**
 * The requests a store lets run at once, adapted to the service (additive increase,
 * multiplicative decrease): a throttling answer halves the limit (never below 1), once for all
 * the requests that were already in flight when it was lowered; every `limit` successes raise it
 * by one, up to the ceiling. The ceiling is the one configured, else the most requests the
 * callers ever ran at once: until the first throttling answer nothing waits here, and the
 * callers' own concurrency (the engine's) is the bound. Waiters are served first come, first
 * served; an aborted wait leaves the queue.
 */
export class InFlightLimit {
  readonly #ceiling: number | undefined;
  #limit: number;
  #inFlight = 0;
  #peak = 0;
  #epoch = 0;
  #successes = 0;
  #throttled = 0;
  readonly #waiting: ((slot: Slot) => void)[] = [];

  constructor(ceiling?: number) {
    if (ceiling !== undefined) checkNumber('store', 'maxInFlight', ceiling, { min: 1, integer: true });
    this.#ceiling = ceiling;
    this.#limit = ceiling ?? Number.POSITIVE_INFINITY;
  }

  /** Requests allowed in flight now: the limit, or while there is none, the most the callers ran at once. */
  get limit(): number {
    return Number.isFinite(this.#limit) ? this.#limit : this.#peak;
  }

  /** Throttling answers so far. */
  get throttled(): number {
    return this.#throttled;
  }

  /** A slot once fewer than the limit are in flight; `Aborted` (for `operation` `key`) when `signal` fires first. */
  acquire(signal?: AbortSignal, operation?: string, key?: string): Promise<Slot> {
    if (this.#waiting.length === 0 && this.#inFlight < this.#limit) return Promise.resolve(this.#take());
    return new Promise((resolve, reject) => {
      const grant = (slot: Slot) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(slot);
      };
      const onAbort = () => {
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(abortError(signal, operation, key));
      };
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(grant);
    });
  }

  /** Ends the request of `slot` (once; later calls do nothing) and lets the next waiters in. */
  release(slot: Slot, outcome: RequestOutcome): void {
    if (slot.released) return;
    slot.released = true;
    this.#inFlight--;
    if (outcome === 'throttled') this.answeredThrottled(slot);
    else if (outcome === 'ok') this.#succeeded();
    this.#admit();
  }

  /** Counts a throttling answer to the request of `slot` (still held: a resumed read) and lowers the limit. */
  answeredThrottled(slot: Slot): void {
    this.#throttled++;
    if (slot.epoch !== this.#epoch) return; // lowered already since this request started
    const base = Math.min(this.#limit, this.#inFlight + (slot.released ? 1 : 0));
    this.#limit = Math.max(1, Math.floor(base / 2));
    this.#epoch++;
    this.#successes = 0;
  }

  #succeeded(): void {
    if (!Number.isFinite(this.#limit) || this.#limit >= (this.#ceiling ?? this.#peak)) return;
    if (++this.#successes < this.#limit) return;
    this.#limit++;
    this.#successes = 0;
  }

  #take(): Slot {
    this.#inFlight++;
    this.#peak = Math.max(this.#peak, this.#inFlight);
    return { epoch: this.#epoch, released: false };
  }

  #admit(): void {
    while (this.#waiting.length > 0 && this.#inFlight < this.#limit) this.#waiting.shift()!(this.#take());
  }
}
