import { type StoreEvent, StoreMetrics, type SyncPhase } from '@ckpt/core';

/** `push` when a model is evicted, `pull` when one is loaded. */
export type Operation = 'push' | 'pull';
/** How an operation ended. */
export type Result = 'ok' | 'aborted' | 'error';

const OPERATIONS: readonly Operation[] = ['push', 'pull'];
const RESULTS: readonly Result[] = ['ok', 'aborted', 'error'];

interface Totals {
  bytes: number;
  transferred: number;
  chunksNew: number;
  chunksReused: number;
  zeroBytes: number;
  seconds: number;
  lastSeconds: number;
  results: Record<Result, number>;
  /** The running operation's phase and bytes done in it (a switcher runs one operation at a time). */
  running: { phase: SyncPhase; bytesDone: number; bytesTotal: number } | undefined;
}

/** What the transfer of one operation reported. */
export interface Transfer {
  bytes: number;
  bytesTransferred: number;
  chunksNew: number;
  chunksReused: number;
  zeroBytes: number;
}

/**
 * The switcher's counters and gauges, in Prometheus' text exposition format (what llmux and
 * node-exporter serve): bytes moved and reused, durations, results, the running operation's
 * progress, and the store's requests and errors as the store saw them (a retried request counts
 * once per attempt, so `Unavailable` errors show the retries).
 */
export class SwitcherMetrics {
  readonly #ops = new Map<Operation, Totals>();
  readonly #store = new StoreMetrics();
  #activeModel: string | undefined;

  constructor() {
    for (const op of OPERATIONS) {
      this.#ops.set(op, {
        bytes: 0,
        transferred: 0,
        chunksNew: 0,
        chunksReused: 0,
        zeroBytes: 0,
        seconds: 0,
        lastSeconds: 0,
        results: { ok: 0, aborted: 0, error: 0 },
        running: undefined,
      });
    }
  }

  /** Give it to `withEvents(store, metrics.storeListener)` to count the store's requests. */
  readonly storeListener = (event: StoreEvent): void => this.#store.record(event);

  started(op: Operation): void {
    this.#totals(op).running = { phase: 'scan', bytesDone: 0, bytesTotal: 0 };
  }

  progress(op: Operation, phase: SyncPhase, bytesDone: number, bytesTotal: number): void {
    this.#totals(op).running = { phase, bytesDone, bytesTotal };
  }

  finished(op: Operation, result: Result, seconds: number, transfer?: Transfer): void {
    const totals = this.#totals(op);
    totals.running = undefined;
    totals.results[result] += 1;
    totals.seconds += seconds;
    totals.lastSeconds = seconds;
    if (transfer) {
      totals.bytes += transfer.bytes;
      totals.transferred += transfer.bytesTransferred;
      totals.chunksNew += transfer.chunksNew;
      totals.chunksReused += transfer.chunksReused;
      totals.zeroBytes += transfer.zeroBytes;
    }
  }

  /** The model loaded now, or undefined when none is. */
  set activeModel(model: string | undefined) {
    this.#activeModel = model;
  }

  /** Every metric, in the text format Prometheus scrapes (version 0.0.4). */
  format(): string {
    const out: string[] = [];
    const family = (name: string, type: 'counter' | 'gauge' | 'summary', help: string, samples: string[]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
    };
    const perOp = (name: string, value: (t: Totals) => number) =>
      OPERATIONS.map((op) => `${name}{op="${op}"} ${value(this.#totals(op))}`);

    family(
      'ckpt_switcher_operations_total',
      'counter',
      'Operations finished: push (evict) and pull (load), by result.',
      OPERATIONS.flatMap((op) =>
        RESULTS.map(
          (r) => `ckpt_switcher_operations_total{op="${op}",result="${r}"} ${this.#totals(op).results[r]}`,
        ),
      ),
    );
    family(
      'ckpt_switcher_bytes_total',
      'counter',
      'Bytes of the checkpoints pushed and pulled, zero runs included.',
      perOp('ckpt_switcher_bytes_total', (t) => t.bytes),
    );
    family(
      'ckpt_switcher_transferred_bytes_total',
      'counter',
      'Bytes that crossed the wire to or from the store.',
      perOp('ckpt_switcher_transferred_bytes_total', (t) => t.transferred),
    );
    family(
      'ckpt_switcher_zero_bytes_total',
      'counter',
      'Bytes of all-zero runs, never stored nor transferred.',
      perOp('ckpt_switcher_zero_bytes_total', (t) => t.zeroBytes),
    );
    family(
      'ckpt_switcher_chunks_new_total',
      'counter',
      'Distinct chunks uploaded (push) or downloaded (pull).',
      perOp('ckpt_switcher_chunks_new_total', (t) => t.chunksNew),
    );
    family(
      'ckpt_switcher_chunks_reused_total',
      'counter',
      'Distinct chunks the store already had (push) or the local directory held (pull).',
      perOp('ckpt_switcher_chunks_reused_total', (t) => t.chunksReused),
    );
    family(
      'ckpt_switcher_duration_seconds',
      'summary',
      'Time spent in operations, whatever their result.',
      OPERATIONS.flatMap((op) => {
        const t = this.#totals(op);
        const count = RESULTS.reduce((n, r) => n + t.results[r], 0);
        return [
          `ckpt_switcher_duration_seconds_sum{op="${op}"} ${t.seconds}`,
          `ckpt_switcher_duration_seconds_count{op="${op}"} ${count}`,
        ];
      }),
    );
    family(
      'ckpt_switcher_last_duration_seconds',
      'gauge',
      'Duration of the last operation of each kind.',
      perOp('ckpt_switcher_last_duration_seconds', (t) => t.lastSeconds),
    );
    family(
      'ckpt_switcher_running_bytes',
      'gauge',
      "Bytes done and in total in the running operation's phase (0 when none runs).",
      OPERATIONS.flatMap((op) => {
        const running = this.#totals(op).running;
        const phase = running ? `,phase="${running.phase}"` : '';
        return [
          `ckpt_switcher_running_bytes{op="${op}",of="done"${phase}} ${running?.bytesDone ?? 0}`,
          `ckpt_switcher_running_bytes{op="${op}",of="total"${phase}} ${running?.bytesTotal ?? 0}`,
        ];
      }),
    );
    family(
      'ckpt_switcher_active_model',
      'gauge',
      'The model loaded now (1), by name; no sample when none is.',
      this.#activeModel === undefined
        ? []
        : [`ckpt_switcher_active_model{model="${label(this.#activeModel)}"} 1`],
    );
    const store = this.#store.snapshot();
    family(
      'ckpt_switcher_store_requests_total',
      'counter',
      'Requests to the store by operation, every attempt of a retried one included.',
      Object.entries(store.ops).map(([op, s]) => `ckpt_switcher_store_requests_total{op="${op}"} ${s.count}`),
    );
    family(
      'ckpt_switcher_store_errors_total',
      'counter',
      'Failed store requests by error code (Unavailable: retried).',
      Object.entries(store.errorsByCode).map(
        ([code, n]) => `ckpt_switcher_store_errors_total{code="${code}"} ${n}`,
      ),
    );
    return `${out.join('\n')}\n`;
  }

  #totals(op: Operation): Totals {
    return this.#ops.get(op)!;
  }
}

/** A label value escaped as the text format wants: backslash, double quote and newline. */
function label(value: string): string {
  return value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');
}
