// The library's OpenTelemetry spans and metrics, seen by the SDK's in-memory exporters.
import path from 'node:path';
import { makeCheckpoint, useTempDir } from '@ckpt/test-utils';
import { context, metrics, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryBackend, MemoryStore, withFaults } from '../dist/exports/testing.js';
import { BackendStore, Checkpoints } from '../dist/index.js';

const spans = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });

beforeAll(() => {
  trace.setGlobalTracerProvider(
    new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] }),
  );
  metrics.setGlobalMeterProvider(meterProvider);
});

afterAll(async () => {
  await meterProvider.shutdown();
  trace.disable();
  metrics.disable();
  context.disable();
});

/** Every data point exported so far, as `name{attr=value,…}` → value (sums) or count (histograms). */
async function points(): Promise<Map<string, number>> {
  await meterProvider.forceFlush();
  const out = new Map<string, number>();
  for (const resource of metricExporter.getMetrics())
    for (const scope of resource.scopeMetrics)
      for (const metric of scope.metrics)
        for (const point of metric.dataPoints) {
          const attrs = Object.entries(point.attributes)
            .map(([k, v]) => `${k}=${v}`)
            .sort()
            .join(',');
          const value =
            typeof point.value === 'number' ? point.value : (point.value as { count: number }).count;
          out.set(`${metric.descriptor.name}{${attrs}}`, value);
        }
  return out;
}

describe('OpenTelemetry', () => {
  const tempDir = useTempDir('ckpt-otel-');

  it('sees a span and metrics for each push and pull, and a failed operation as an error', async () => {
    const root = await tempDir();
    const src = await makeCheckpoint(path.join(root, 'src'));
    const checkpoints = new Checkpoints(new MemoryStore(), { stateDir: path.join(root, 'state') });
    try {
      const pushed = await checkpoints.push('m', src);
      const pulled = await checkpoints.pull('m', path.join(root, 'dst'));
      await expect(checkpoints.verify('nothing-here')).rejects.toMatchObject({ code: 'NotFound' });

      const finished = spans.getFinishedSpans();
      expect(finished.map((s) => s.name)).toEqual(['ckpt.push', 'ckpt.pull', 'ckpt.verify']);
      expect(finished[0]?.attributes).toMatchObject({
        'ckpt.model': 'm',
        'ckpt.generation': pushed.generation,
        'ckpt.bytes': pushed.bytes,
        'ckpt.bytes_transferred': pushed.bytesTransferred,
        'ckpt.chunks.new': pushed.chunksNew,
      });
      expect(finished[2]?.status).toMatchObject({ code: 2 });
      expect(finished[2]?.attributes['ckpt.error.code']).toBe('NotFound');

      const seen = await points();
      expect(seen.get('ckpt.transfer.size{ckpt.operation=push}')).toBe(pushed.bytesTransferred);
      expect(seen.get('ckpt.transfer.size{ckpt.operation=pull}')).toBe(pulled.bytesTransferred);
      expect(seen.get('ckpt.checkpoint.size{ckpt.operation=pull}')).toBe(pulled.bytes);
      expect(seen.get('ckpt.chunks{ckpt.chunk.source=new,ckpt.operation=push}')).toBe(pushed.chunksNew);
      expect(seen.get('ckpt.operation.duration{ckpt.operation=push,ckpt.outcome=ok}')).toBe(1);
      expect(seen.get('ckpt.operation.duration{ckpt.operation=verify,ckpt.outcome=NotFound}')).toBe(1);
    } finally {
      await checkpoints.close();
    }
  });

  it('counts the store requests it retried', async () => {
    const root = await tempDir();
    const src = await makeCheckpoint(path.join(root, 'src'));
    const backend = withFaults(new MemoryBackend(), { seed: 3, errorRate: 0.3 });
    const store = new BackendStore(backend, { retry: { attempts: 20, baseDelayMs: 1, maxDelayMs: 2 } });
    const checkpoints = new Checkpoints(store, { stateDir: path.join(root, 'state') });
    try {
      await checkpoints.push('m', src);
    } finally {
      await checkpoints.close();
    }
    const retried = [...(await points())]
      .filter(([name]) => name.startsWith('ckpt.retries{'))
      .reduce((sum, [, value]) => sum + value, 0);
    expect(retried).toBeGreaterThan(0);
  });

  it('counts throttling answers and records the limit the store ended a transfer with', async () => {
    const root = await tempDir();
    const src = await makeCheckpoint(path.join(root, 'src'));
    const backend = withFaults(new MemoryBackend(), { seed: 3, throttleAbove: 2, delayMs: [1, 3] });
    const store = new BackendStore(backend, { retry: { attempts: 30, baseDelayMs: 1, maxDelayMs: 4 } });
    const checkpoints = new Checkpoints(store, {
      stateDir: path.join(root, 'state'),
      concurrency: 8,
      packSize: 64 << 10,
    });
    let pulled: Awaited<ReturnType<Checkpoints['pull']>>;
    try {
      await checkpoints.push('m', src);
      pulled = await checkpoints.pull('m', path.join(root, 'dst'));
    } finally {
      await checkpoints.close();
    }
    const seen = [...(await points())];
    const throttled = seen
      .filter(([name]) => name.startsWith('ckpt.store.throttled{'))
      .reduce((sum, [, value]) => sum + value, 0);
    expect(throttled).toBe(backend.injected.throttled);
    expect(throttled).toBeGreaterThan(0);
    expect(new Map(seen).get('ckpt.store.in_flight_limit{ckpt.operation=pull}')).toBe(pulled.inFlightLimit);
    expect(spans.getFinishedSpans().at(-1)?.attributes).toMatchObject({
      'ckpt.store.throttled': pulled.throttled,
      'ckpt.store.in_flight_limit': pulled.inFlightLimit,
    });
  });
});
