import { describe, expect, it } from 'vitest';
import type { StoreEvent } from '../../src/layers/events.js';
import { StoreMetrics } from '../../src/layers/metrics.js';
import { mulberry32 } from '../../src/layers/random.js';

const event = (over: Partial<StoreEvent>): StoreEvent => ({
  op: 'get',
  key: 'k',
  bytes: 0,
  durationMs: 1,
  ...over,
});

describe('StoreMetrics', () => {
  it('counts requests, bytes and errors per operation and code', () => {
    const metrics = new StoreMetrics();
    metrics.record(event({ op: 'put', bytes: 100 }));
    metrics.record(event({ op: 'put', bytes: 50, error: 'Unavailable' }));
    metrics.record(event({ op: 'get', bytes: 70 }));
    metrics.record(event({ op: 'head', error: 'NotFound' }));
    metrics.record(event({ op: 'get', bytes: 5, error: 'Unavailable' }));
    const s = metrics.snapshot();
    expect(s).toMatchObject({
      requests: 5,
      errors: 3,
      bytesOut: 150,
      bytesIn: 75,
      errorsByCode: { Unavailable: 2, NotFound: 1 },
    });
    expect(s.ops.put).toMatchObject({ count: 2, errors: 1, bytes: 150 });
    expect(s.ops.head).toMatchObject({ count: 1, errors: 1, bytes: 0 });
    expect(s.ops.list).toBeUndefined();
  });

  it('gives exact nearest-rank percentiles while the reservoir holds every sample', () => {
    const metrics = new StoreMetrics();
    for (const ms of [...Array.from({ length: 100 }, (_, i) => 100 - i)])
      metrics.record(event({ durationMs: ms }));
    expect(metrics.snapshot().ops.get).toMatchObject({ p50Ms: 50, p95Ms: 95, maxMs: 100 });
    const one = new StoreMetrics();
    one.record(event({ op: 'head', durationMs: 7 }));
    expect(one.snapshot().ops.head).toMatchObject({ p50Ms: 7, p95Ms: 7, maxMs: 7 });
  });

  it('estimates percentiles from a bounded, unbiased reservoir on long runs', () => {
    const metrics = new StoreMetrics({ reservoirSize: 1024, random: mulberry32(42) });
    const random = mulberry32(9);
    // fast first half, slow second half: a reservoir that favours early or late samples is off by far
    for (let i = 0; i < 20_000; i++)
      metrics.record(event({ durationMs: (i < 10_000 ? 0 : 500) + random() * 500 }));
    const get = metrics.snapshot().ops.get;
    expect(get?.count).toBe(20_000);
    expect(get?.p50Ms).toBeGreaterThan(440);
    expect(get?.p50Ms).toBeLessThan(560);
    expect(get?.p95Ms).toBeGreaterThan(920);
    expect(get?.maxMs).toBeGreaterThan(999);
  });

  it('resets, formats a readable summary, and serves as a listener', () => {
    const metrics = new StoreMetrics();
    metrics.listener(event({ op: 'put', bytes: 3 * 1024 * 1024, durationMs: 12.34 }));
    metrics.listener(event({ op: 'get', bytes: 10, durationMs: 2, error: 'Integrity' }));
    const text = metrics.format();
    expect(text).toContain('requests 2, errors 1 (Integrity 1), in 10 B, out 3.0 MiB');
    expect(text).toMatch(/^put +1 req +0 err +3\.0 MiB {2}p50 12\.3 ms {2}p95 12\.3 ms {2}max 12\.3 ms$/m);
    metrics.reset();
    expect(metrics.snapshot()).toEqual({
      requests: 0,
      errors: 0,
      bytesIn: 0,
      bytesOut: 0,
      errorsByCode: {},
      ops: {},
    });
  });

  it('rejects a bad reservoir size', () => {
    expect(() => new StoreMetrics({ reservoirSize: 0 })).toThrow(
      expect.objectContaining({ code: 'InvalidArgument' }),
    );
  });
});
