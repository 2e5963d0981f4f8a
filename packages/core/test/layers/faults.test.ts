import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackendStore } from '../../src/backend-store.js';
import { readAll } from '../../src/body.js';
import { StoreError } from '../../src/errors.js';
import { type FaultOptions, withFaults } from '../../src/layers/faults.js';
import { mulberry32 } from '../../src/layers/random.js';
import { MemoryBackend } from '../../src/memory-store.js';
import { bytesOf, drain, listKeys, recordingSleep } from './helpers.js';

/** A MemoryBackend holding `objects`. */
async function memoryWith(objects: Record<string, Buffer>): Promise<MemoryBackend> {
  const memory = new MemoryBackend();
  for (const [key, data] of Object.entries(objects)) await memory.put(key, data, { mode: 'overwrite' });
  return memory;
}

/** A store that never retries, over `backend`: the faults reach the caller as they are. */
const bare = (backend: ConstructorParameters<typeof BackendStore>[0]) =>
  new BackendStore(backend, { retry: false });

/** Which of `n` heads of an existing key fail, as a string of 0/1. */
async function failurePattern(options: FaultOptions, n = 200): Promise<string> {
  const faulty = withFaults(await memoryWith({ a: bytesOf(1) }), options);
  let pattern = '';
  for (let i = 0; i < n; i++)
    pattern += await faulty.head('a', {}).then(
      () => '0',
      () => '1',
    );
  return pattern;
}

describe('mulberry32', () => {
  it('repeats its sequence for a seed and stays in [0, 1)', () => {
    const a = mulberry32(123);
    const b = mulberry32(123);
    const c = mulberry32(124);
    const xs = Array.from({ length: 1000 }, () => a());
    expect(Array.from({ length: 1000 }, () => b())).toEqual(xs);
    expect(Array.from({ length: 1000 }, () => c())).not.toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
  });
});

describe('withFaults', () => {
  it('injects the same faults for the same seed, and others for another seed', async () => {
    const first = await failurePattern({ seed: 11, errorRate: 0.3 });
    expect(await failurePattern({ seed: 11, errorRate: 0.3 })).toBe(first);
    expect(await failurePattern({ seed: 12, errorRate: 0.3 })).not.toBe(first);
    const rate = [...first].filter((c) => c === '1').length / first.length;
    expect(rate).toBeGreaterThan(0.2);
    expect(rate).toBeLessThan(0.4);
  });

  it('fails before the call with a retryable Unavailable naming the operation and key', async () => {
    const memory = new MemoryBackend();
    const faulty = withFaults(memory, { seed: 1, errorRate: 1 });
    const error = await bare(faulty)
      .put('a/b', bytesOf(3))
      .catch((e: unknown) => e);
    expect(StoreError.is(error, 'Unavailable')).toBe(true);
    expect((error as StoreError).retryable).toBe(true);
    expect((error as StoreError).message).toBe('put a/b: injected fault');
    await expect(memory.head('a/b')).rejects.toMatchObject({ code: 'NotFound' });
    expect(faulty.injected).toEqual({ errors: 1, delays: 0, truncations: 0, throttled: 0 });
  });

  it('uses the configured error code and only touches the selected operations', async () => {
    const faulty = withFaults(new MemoryBackend(), {
      seed: 1,
      errorRate: 1,
      errorCode: 'Internal',
      ops: ['get', 'list'],
    });
    const store = bare(faulty);
    await store.put('a', bytesOf(3));
    await expect(store.head('a')).resolves.toMatchObject({ size: 3 });
    await expect(store.get('a')).rejects.toMatchObject({ code: 'Internal', retryable: false });
    expect((await listKeys(store.list())).error).toMatchObject({
      code: 'Internal',
      message: 'list: injected fault',
    });
    expect(faulty.injected.errors).toBe(2);
    expect(withFaults(new MemoryBackend(), { seed: 1 }).injected).toEqual({
      errors: 0,
      delays: 0,
      truncations: 0,
      throttled: 0,
    });
  });

  it('injects into deleteBatch as `deleteMany`, and has one only when the backend does', async () => {
    const inner = Object.assign(await memoryWith({ a: bytesOf(1) }), {
      deleteBatch: async () => ({ errors: [] }),
    });
    const faulty = withFaults(inner, { seed: 1, errorRate: 1, ops: ['deleteMany'] });
    await expect(faulty.deleteBatch?.(['a', 'b'], {})).rejects.toMatchObject({
      code: 'Unavailable',
      message: 'deleteMany a: injected fault',
    });
    expect(withFaults(new MemoryBackend(), { seed: 1 }).deleteBatch).toBeUndefined();
  });

  it('truncates get bodies: they error after part of the bytes and never end early', async () => {
    const memory = await memoryWith({ big: bytesOf(200_000), empty: Buffer.alloc(0) });
    for (const truncateCode of ['Unavailable', 'Integrity'] as const) {
      const faulty = withFaults(memory, { seed: 5, truncateRate: 1, truncateCode });
      for (let i = 0; i < 10; i++) {
        const { bytes, error } = await drain((await faulty.get('big', {})).body);
        expect(StoreError.is(error, truncateCode)).toBe(true);
        expect(bytes).toBeLessThan(200_000);
      }
      const ranged = await drain((await faulty.get('big', { range: { offset: 10, length: 5 } })).body);
      expect(ranged.bytes).toBeLessThan(5);
      expect(StoreError.is(ranged.error, truncateCode)).toBe(true);
      expect(StoreError.is((await drain((await faulty.get('empty', {})).body)).error, truncateCode)).toBe(
        true,
      );
      expect(faulty.injected.truncations).toBe(12);
    }
  });

  it('truncates at seeded points and leaves other bodies whole', async () => {
    const memory = await memoryWith({ a: bytesOf(50_000) });
    const run = async () => {
      const faulty = withFaults(memory, { seed: 99, truncateRate: 0.5 });
      const outcomes: string[] = [];
      for (let i = 0; i < 20; i++) {
        const { bytes, error } = await drain((await faulty.get('a', {})).body);
        outcomes.push(error ? `cut at ${bytes}` : String(bytes));
      }
      return outcomes;
    };
    const outcomes = await run();
    expect(await run()).toEqual(outcomes);
    expect(outcomes.filter((o) => o.startsWith('cut')).length).toBeGreaterThan(3);
    expect(outcomes).toContain('50000');
    expect(outcomes.every((o) => o.startsWith('cut') || o === '50000')).toBe(true);
  });

  it('destroying a truncating body destroys the inner body', async () => {
    const memory = await memoryWith({ a: bytesOf(10) });
    const bodies: Readable[] = [];
    const inner = Object.assign(memory, {
      get: async (key: string, options: Parameters<MemoryBackend['get']>[1]) => {
        const result = await MemoryBackend.prototype.get.call(memory, key, options);
        bodies.push(result.body);
        return result;
      },
    });
    const result = await withFaults(inner, { seed: 1, truncateRate: 1 }).get('a', {});
    result.body.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.destroyed).toBe(true);
  });

  it('delays requests by seeded amounts within the range', async () => {
    const { delays, sleep } = recordingSleep();
    const faulty = withFaults(new MemoryBackend(), { seed: 4, delayMs: [10, 30], sleep });
    const store = bare(faulty);
    await store.put('a', bytesOf(1));
    for (let i = 0; i < 20; i++) await store.head('a');
    expect(delays).toHaveLength(21);
    expect(delays.every((d) => d >= 10 && d <= 30)).toBe(true);
    expect(new Set(delays).size).toBeGreaterThan(10);
    expect(faulty.injected.delays).toBe(21);
  });

  it('really waits, and an abort ends the wait with Aborted', async () => {
    const store = bare(withFaults(new MemoryBackend(), { seed: 4, delayMs: [40, 40] }));
    const started = performance.now();
    await store.put('a', bytesOf(1));
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);

    const slow = withFaults(new MemoryBackend(), { seed: 4, delayMs: [60_000, 60_000] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 10);
    const t0 = performance.now();
    await expect(slow.head('a', { signal: controller.signal })).rejects.toMatchObject({
      code: 'Aborted',
      message: 'head a: the operation was aborted',
    });
    expect(performance.now() - t0).toBeLessThan(2000);
  });

  it('answers throttling to a request beyond `throttleAbove` in flight, a get in flight until its body closes', async () => {
    const faulty = withFaults(await memoryWith({ a: bytesOf(10) }), {
      seed: 1,
      throttleAbove: 2,
      ops: ['get', 'head'],
    });
    const first = await faulty.get('a', {});
    const second = faulty.head('a', {});
    await expect(faulty.head('a', {})).rejects.toMatchObject({
      code: 'Unavailable',
      throttled: true,
      retryable: true,
    });
    await second;
    await faulty.put('b', bytesOf(1), { mode: 'overwrite' }); // not a selected operation
    await drain(first.body as Readable);
    await expect(faulty.head('a', {})).resolves.toMatchObject({ size: 10 });
    expect(faulty.injected.throttled).toBe(1);
    expect(faulty.peakInFlight).toBe(2);
  });

  it('sits under a store whose retries and resumed reads ride through its faults', async () => {
    const faulty = withFaults(new MemoryBackend(), { seed: 21, errorRate: 0.4, truncateRate: 0.5 });
    const store = new BackendStore(faulty, { retry: { attempts: 20, sleep: recordingSleep().sleep } });
    for (let i = 0; i < 30; i++) await store.put(`k${i}`, bytesOf(10_000 + i));
    for (let i = 0; i < 30; i++)
      expect(await readAll((await store.get(`k${i}`)).body)).toEqual(bytesOf(10_000 + i));
    expect((await listKeys(store.list())).keys).toHaveLength(30);
    expect(faulty.injected.errors).toBeGreaterThan(10);
    expect(faulty.injected.truncations).toBeGreaterThan(5);
  });

  it.each([
    [{ errorRate: 1.5 }, 'errorRate'],
    [{ truncateRate: -0.1 }, 'truncateRate'],
    [{ delayMs: [20, 10] as [number, number] }, 'delayMs[1]'],
    [{ seed: 1.5 }, 'seed'],
    [{ throttleAbove: 0 }, 'throttleAbove'],
  ])('rejects bad options %j', (options, field) => {
    expect(() => withFaults(new MemoryBackend(), { seed: 1, ...options })).toThrow(
      expect.objectContaining({
        code: 'InvalidArgument',
        message: expect.stringContaining(`withFaults ${field}`),
      }),
    );
  });
});
