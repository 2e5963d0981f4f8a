import type { StoreErrorCode } from '../errors.js';
import type { StoreOp } from '../retry.js';
import type { StoreEvent, StoreListener } from './events.js';
import { STORE_OPS } from './layer.js';
import { checkNumber } from './options.js';
import type { Random } from './random.js';

/** Totals and latencies of one operation. Latency percentiles are `undefined` before any request. */
export interface OpStats {
  count: number;
  errors: number;
  bytes: number;
  p50Ms: number | undefined;
  p95Ms: number | undefined;
  maxMs: number | undefined;
}

/** What a {@link StoreMetrics} has seen so far. */
export interface MetricsSnapshot {
  requests: number;
  errors: number;
  /** Bytes received by `get`s. */
  bytesIn: number;
  /** Bytes stored by `put`s. */
  bytesOut: number;
  errorsByCode: Partial<Record<StoreErrorCode, number>>;
  ops: Partial<Record<StoreOp, OpStats>>;
}

export interface StoreMetricsOptions {
  /** Latencies kept per operation for percentiles (uniform reservoir sample). Default `1024`. */
  reservoirSize?: number;
  /** Source of the reservoir's randomness. Default `Math.random`. */
  random?: Random;
}

interface OpState {
  count: number;
  errors: number;
  bytes: number;
  maxMs: number;
  samples: number[];
}

/**
 * Aggregates {@link StoreEvent}s: requests, bytes in and out, errors by code, and per-operation
 * latency (p50/p95 from a bounded reservoir sample, exact while an operation has fewer requests
 * than the reservoir holds). Memory stays constant however many requests it sees.
 *
 * @example
 * ```ts
 * const metrics = new StoreMetrics();
 * const store = withEvents(inner, metrics.listener);
 * await engine.push(store, dir);
 * console.log(metrics.format());
 * ```
 */
export class StoreMetrics {
  private readonly reservoirSize: number;
  private readonly random: Random;
  private ops = new Map<StoreOp, OpState>();
  private errorsByCode: Partial<Record<StoreErrorCode, number>> = {};

  constructor(options: StoreMetricsOptions = {}) {
    this.reservoirSize = checkNumber('StoreMetrics', 'reservoirSize', options.reservoirSize ?? 1024, {
      min: 1,
      integer: true,
    });
    this.random = options.random ?? Math.random;
  }

  /** {@link record} as a ready-bound listener for `withEvents`. */
  readonly listener: StoreListener = (event) => this.record(event);

  /** Adds one event. */
  record(event: StoreEvent): void {
    let state = this.ops.get(event.op);
    if (!state) {
      state = { count: 0, errors: 0, bytes: 0, maxMs: 0, samples: [] };
      this.ops.set(event.op, state);
    }
    state.count += 1;
    state.bytes += event.bytes;
    state.maxMs = Math.max(state.maxMs, event.durationMs);
    if (event.error) {
      state.errors += 1;
      this.errorsByCode[event.error] = (this.errorsByCode[event.error] ?? 0) + 1;
    }
    if (state.samples.length < this.reservoirSize) state.samples.push(event.durationMs);
    else {
      const slot = Math.floor(this.random() * state.count);
      if (slot < this.reservoirSize) state.samples[slot] = event.durationMs;
    }
  }

  /** Forgets everything recorded so far. */
  reset(): void {
    this.ops = new Map();
    this.errorsByCode = {};
  }

  /** A copy of the totals now. */
  snapshot(): MetricsSnapshot {
    const snapshot: MetricsSnapshot = {
      requests: 0,
      errors: 0,
      bytesIn: this.ops.get('get')?.bytes ?? 0,
      bytesOut: this.ops.get('put')?.bytes ?? 0,
      errorsByCode: { ...this.errorsByCode },
      ops: {},
    };
    for (const op of STORE_OPS) {
      const state = this.ops.get(op);
      if (!state) continue;
      const sorted = [...state.samples].sort((a, b) => a - b);
      snapshot.requests += state.count;
      snapshot.errors += state.errors;
      snapshot.ops[op] = {
        count: state.count,
        errors: state.errors,
        bytes: state.bytes,
        p50Ms: percentile(sorted, 0.5),
        p95Ms: percentile(sorted, 0.95),
        maxMs: state.count > 0 ? state.maxMs : undefined,
      };
    }
    return snapshot;
  }

  /** A short human-readable table of {@link snapshot}, one line per operation. */
  format(): string {
    const s = this.snapshot();
    const codes = Object.entries(s.errorsByCode).map(([code, n]) => `${code} ${n}`);
    const lines = [
      `requests ${s.requests}, errors ${s.errors}${codes.length ? ` (${codes.join(', ')})` : ''}, ` +
        `in ${formatBytes(s.bytesIn)}, out ${formatBytes(s.bytesOut)}`,
    ];
    for (const [op, o] of Object.entries(s.ops)) {
      lines.push(
        `${op.padEnd(10)} ${String(o.count).padStart(7)} req ${String(o.errors).padStart(5)} err ` +
          `${formatBytes(o.bytes).padStart(10)}  p50 ${ms(o.p50Ms)}  p95 ${ms(o.p95Ms)}  max ${ms(o.maxMs)}`,
      );
    }
    return lines.join('\n');
  }
}

/** Nearest-rank percentile of ascending `sorted`, `undefined` when empty. */
function percentile(sorted: number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)];
}

function ms(value: number | undefined): string {
  return value === undefined ? '-' : `${value.toFixed(1)} ms`;
}

function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${n} B` : `${value.toFixed(1)} ${units[unit]}`;
}
