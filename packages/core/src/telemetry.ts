import type * as OpenTelemetry from '@opentelemetry/api';
import { redact, StoreError } from './errors.js';

/**
 * OpenTelemetry for the library: a span and metrics per operation, and a count of retried
 * requests, through `@opentelemetry/api` when the application has it installed (an optional peer
 * dependency). Without it, nothing is loaded and an operation costs one settled promise; with it
 * but no SDK registered, the API's no-op tracer and meter apply.
 */

type Api = typeof OpenTelemetry;

/** The engine's operations that telemetry follows. */
export type TracedOperation = 'push' | 'pull' | 'verify' | 'delete' | 'gc';

/** What an operation's result says, as span attributes and metric values. */
export interface OperationFigures {
  generation?: string;
  /** Logical bytes of the checkpoint pushed, pulled or verified. */
  bytes?: number;
  /** Bytes sent to or read from the store. */
  bytesTransferred?: number;
  chunksNew?: number;
  chunksReused?: number;
  /** Bytes a gc freed. */
  bytesFreed?: number;
  /** Throttling answers the store got during the operation. */
  throttled?: number;
  /** Requests the store let run at once when the operation ended. */
  inFlightLimit?: number;
}

const SCOPE = '@ckpt/core';

let api: Api | undefined;
let loading: Promise<Api | undefined> | undefined;

function loadApi(): Promise<Api | undefined> {
  loading ??= import('@opentelemetry/api').then(
    (module) => {
      api = module;
      return module;
    },
    () => undefined,
  );
  return loading;
}

interface Instruments {
  provider: OpenTelemetry.MeterProvider;
  duration: OpenTelemetry.Histogram;
  transferred: OpenTelemetry.Counter;
  logical: OpenTelemetry.Counter;
  chunks: OpenTelemetry.Counter;
  retries: OpenTelemetry.Counter;
  throttled: OpenTelemetry.Counter;
  inFlightLimit: OpenTelemetry.Gauge;
}

let instruments: Instruments | undefined;

/** The instruments of the meter provider registered now (an application may register one late). */
function instrumentsOf(otel: Api): Instruments {
  const provider = otel.metrics.getMeterProvider();
  if (instruments?.provider === provider) return instruments;
  const meter = provider.getMeter(SCOPE);
  instruments = {
    provider,
    duration: meter.createHistogram('ckpt.operation.duration', {
      description: 'How long a push, pull, verify, delete or gc took',
      unit: 's',
    }),
    transferred: meter.createCounter('ckpt.transfer.size', {
      description: 'Bytes sent to or read from the store',
      unit: 'By',
    }),
    logical: meter.createCounter('ckpt.checkpoint.size', {
      description: 'Logical bytes of the checkpoints pushed, pulled or verified',
      unit: 'By',
    }),
    chunks: meter.createCounter('ckpt.chunks', {
      description:
        'Chunks a push stored or a pull fetched (new) and those taken from data already there (reused)',
    }),
    retries: meter.createCounter('ckpt.retries', {
      description: 'Store requests retried after a transient failure',
    }),
    throttled: meter.createCounter('ckpt.store.throttled', {
      description: 'Store requests the service answered with throttling (429, SlowDown, ServerBusy)',
    }),
    inFlightLimit: meter.createGauge('ckpt.store.in_flight_limit', {
      description: 'Requests the store let run at once when a push or pull ended (lowered by throttling)',
    }),
  };
  return instruments;
}

/**
 * Runs `operation` in a span named `ckpt.<operation>` and records its duration and figures.
 * The span ends with an error status carrying the redacted message and the `StoreError` code.
 */
export async function traced<T>(
  operation: TracedOperation,
  model: string | undefined,
  run: () => Promise<T>,
  figures: (result: T) => OperationFigures,
): Promise<T> {
  const otel = api ?? (await loadApi());
  if (!otel) return run();
  const common = { 'ckpt.operation': operation };
  const started = performance.now();
  const span = otel.trace
    .getTracer(SCOPE)
    .startSpan(`ckpt.${operation}`, { attributes: model === undefined ? {} : { 'ckpt.model': model } });
  const record = (outcome: string) =>
    instrumentsOf(otel).duration.record((performance.now() - started) / 1000, {
      ...common,
      'ckpt.outcome': outcome,
    });
  try {
    const result = await otel.context.with(otel.trace.setSpan(otel.context.active(), span), run);
    const values = figures(result);
    const meters = instrumentsOf(otel);
    if (values.bytesTransferred !== undefined) meters.transferred.add(values.bytesTransferred, common);
    if (values.bytes !== undefined) meters.logical.add(values.bytes, common);
    if (values.chunksNew !== undefined)
      meters.chunks.add(values.chunksNew, { ...common, 'ckpt.chunk.source': 'new' });
    if (values.chunksReused !== undefined)
      meters.chunks.add(values.chunksReused, { ...common, 'ckpt.chunk.source': 'reused' });
    if (values.inFlightLimit !== undefined) meters.inFlightLimit.record(values.inFlightLimit, common);
    span.setAttributes(spanAttributes(values));
    record('ok');
    return result;
  } catch (error) {
    const code = StoreError.is(error) ? error.code : 'Internal';
    const message = redact(error instanceof Error ? error.message : String(error));
    span.setAttribute('ckpt.error.code', code);
    span.setStatus({ code: otel.SpanStatusCode.ERROR, message });
    record(code);
    throw error;
  } finally {
    span.end();
  }
}

/** Counts one retried store request (nothing before an operation has loaded the API). */
export function countRetry(op: string): void {
  if (api) instrumentsOf(api).retries.add(1, { 'ckpt.store.operation': op });
}

/** Counts one throttling answer to a store request (nothing before an operation has loaded the API). */
export function countThrottled(op: string): void {
  if (api) instrumentsOf(api).throttled.add(1, { 'ckpt.store.operation': op });
}

function spanAttributes(values: OperationFigures): OpenTelemetry.Attributes {
  const attributes: OpenTelemetry.Attributes = {};
  for (const [name, value] of Object.entries(values)) {
    if (value !== undefined) attributes[`ckpt.${SPAN_NAMES[name as keyof OperationFigures]}`] = value;
  }
  return attributes;
}

const SPAN_NAMES: Record<keyof OperationFigures, string> = {
  generation: 'generation',
  bytes: 'bytes',
  bytesTransferred: 'bytes_transferred',
  chunksNew: 'chunks.new',
  chunksReused: 'chunks.reused',
  bytesFreed: 'bytes_freed',
  throttled: 'store.throttled',
  inFlightLimit: 'store.in_flight_limit',
};
