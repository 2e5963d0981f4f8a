import type { StoreEvent, SyncPhase } from '@ckpt/core';
import { Counter, Gauge, Registry, Summary } from 'prom-client';

/** `push` when a model is evicted, `pull` when one is loaded. */
export type Operation = 'push' | 'pull';
/** How an operation ended. */
export type Result = 'ok' | 'aborted' | 'error';

const OPERATIONS: readonly Operation[] = ['push', 'pull'];
const RESULTS: readonly Result[] = ['ok', 'aborted', 'error'];

/** What the transfer of one operation reported. */
export interface Transfer {
  bytes: number;
  bytesTransferred: number;
  chunksNew: number;
  chunksReused: number;
  zeroBytes: number;
}

/** The running operation's phase and bytes done in it. */
interface Running {
  phase: SyncPhase;
  bytesDone: number;
  bytesTotal: number;
}

/**
 * The switcher's counters and gauges (`prom-client`), in Prometheus' text exposition format (what
 * llmux and node-exporter serve): bytes moved and reused, durations, results, the running
 * operation's progress, and the store's requests and errors as the store saw them (a retried
 * request counts once per attempt, so `Unavailable` errors show the retries).
 */
export class SwitcherMetrics {
  readonly registry = new Registry();
  readonly #running = new Map<Operation, Running>();
  #activeModel: string | undefined;

  readonly #operations = this.#counter(
    'operations_total',
    'Operations finished: push (evict) and pull (load), by result.',
    ['op', 'result'],
  );
  readonly #figures = {
    bytes: this.#counter('bytes_total', 'Bytes of the checkpoints pushed and pulled, zero runs included.'),
    bytesTransferred: this.#counter(
      'transferred_bytes_total',
      'Bytes that crossed the wire to or from the store.',
    ),
    zeroBytes: this.#counter('zero_bytes_total', 'Bytes of all-zero runs, never stored nor transferred.'),
    chunksNew: this.#counter('chunks_new_total', 'Distinct chunks uploaded (push) or downloaded (pull).'),
    chunksReused: this.#counter(
      'chunks_reused_total',
      'Distinct chunks the store already had (push) or the local directory held (pull).',
    ),
  } satisfies Record<keyof Transfer, Counter>;
  readonly #duration = new Summary({
    name: 'ckpt_switcher_duration_seconds',
    help: 'Time spent in operations, whatever their result.',
    labelNames: ['op'],
    percentiles: [],
    registers: [this.registry],
  });
  readonly #lastDuration = this.#gauge(
    'last_duration_seconds',
    'Duration of the last operation of each kind.',
    ['op'],
  );
  readonly #storeRequests = this.#counter(
    'store_requests_total',
    'Requests to the store by operation, every attempt of a retried one included.',
  );
  readonly #storeErrors = this.#counter(
    'store_errors_total',
    'Failed store requests by error code (Unavailable: retried).',
    ['code'],
  );

  constructor() {
    const running = this.#running;
    const active = () => this.#activeModel;
    this.#gauge(
      'running_bytes',
      "Bytes done and in total in the running operation's phase (0 when none runs).",
      ['op', 'of', 'phase'],
      function () {
        this.reset();
        for (const op of OPERATIONS) {
          const now = running.get(op);
          const phase = now ? { phase: now.phase } : {};
          this.set({ op, of: 'done', ...phase }, now?.bytesDone ?? 0);
          this.set({ op, of: 'total', ...phase }, now?.bytesTotal ?? 0);
        }
      },
    );
    this.#gauge(
      'active_model',
      'The model loaded now (1), by name; no sample when none is.',
      ['model'],
      function () {
        this.reset();
        const model = active();
        if (model !== undefined) this.set({ model }, 1);
      },
    );
    for (const op of OPERATIONS) {
      for (const result of RESULTS) this.#operations.inc({ op, result }, 0);
      for (const counter of Object.values(this.#figures)) counter.inc({ op }, 0);
      this.#lastDuration.set({ op }, 0);
    }
  }

  /** Give it to `withEvents(store, metrics.storeListener)` to count the store's requests. */
  readonly storeListener = (event: StoreEvent): void => {
    this.#storeRequests.inc({ op: event.op });
    if (event.error) this.#storeErrors.inc({ code: event.error });
  };

  started(op: Operation): void {
    this.#running.set(op, { phase: 'scan', bytesDone: 0, bytesTotal: 0 });
  }

  progress(op: Operation, phase: SyncPhase, bytesDone: number, bytesTotal: number): void {
    this.#running.set(op, { phase, bytesDone, bytesTotal });
  }

  finished(op: Operation, result: Result, seconds: number, transfer?: Transfer): void {
    this.#running.delete(op);
    this.#operations.inc({ op, result });
    this.#duration.observe({ op }, seconds);
    this.#lastDuration.set({ op }, seconds);
    if (transfer)
      for (const [field, counter] of Object.entries(this.#figures))
        counter.inc({ op }, transfer[field as keyof Transfer]);
  }

  /** The model loaded now, or undefined when none is. */
  set activeModel(model: string | undefined) {
    this.#activeModel = model;
  }

  /** Every metric, in the text format Prometheus scrapes. */
  format(): Promise<string> {
    return this.registry.metrics();
  }

  #counter(name: string, help: string, labelNames = ['op']): Counter {
    return new Counter({ name: `ckpt_switcher_${name}`, help, labelNames, registers: [this.registry] });
  }

  /** A gauge; `collect` sets its samples from the switcher's state at each scrape. */
  #gauge(name: string, help: string, labelNames: string[], collect?: (this: Gauge) => void): Gauge {
    return new Gauge({
      name: `ckpt_switcher_${name}`,
      help,
      labelNames,
      registers: [this.registry],
      collect,
    });
  }
}
