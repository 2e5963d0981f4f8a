import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { StoreLayer } from '../../src/layers/layer.js';
import { mulberry32 } from '../../src/layers/random.js';
import { type RetryEvent, withRetry } from '../../src/layers/retry.js';
import { MemoryStore } from '../../src/memory-store.js';
import type { PutBody, PutOptions, PutResult } from '../../src/store.js';
import { bytesOf, readBody, recordingSleep, ScriptedStore, storeError, unavailable } from './helpers.js';

function setup(options: Parameters<typeof withRetry>[1] = {}) {
  const inner = new ScriptedStore();
  const { delays, sleep } = recordingSleep();
  const events: RetryEvent[] = [];
  const store = withRetry(inner, {
    sleep,
    random: mulberry32(1),
    onRetry: (e) => events.push(e),
    ...options,
  });
  return { inner, store, delays, events };
}

describe('withRetry', () => {
  it('retries retryable errors until the request succeeds', async () => {
    const { inner, store, events } = setup();
    inner.failNext('put', unavailable(), unavailable());
    const result = await store.put('a', bytesOf(10));
    expect(result.size).toBe(10);
    expect(inner.calls.put).toBe(3);
    expect(events.map((e) => [e.op, e.key, e.attempt, e.error.code])).toEqual([
      ['put', 'a', 1, 'Unavailable'],
      ['put', 'a', 2, 'Unavailable'],
    ]);
  });

  it('gives up after `retries` retries and rethrows the last error', async () => {
    const { inner, store } = setup({ retries: 3 });
    const last = unavailable('last');
    inner.failNext('head', unavailable(), unavailable(), unavailable(), last, unavailable());
    await expect(store.head('a')).rejects.toBe(last);
    expect(inner.calls.head).toBe(4);
  });

  it('defaults to 4 retries', async () => {
    const { inner, store } = setup({ retries: undefined });
    inner.failNext('delete', ...Array.from({ length: 10 }, () => unavailable()));
    await expect(store.delete('a')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(inner.calls.delete).toBe(5);
  });

  it.each([
    'NotFound',
    'AlreadyExists',
    'PreconditionFailed',
    'PermissionDenied',
    'InvalidArgument',
    'Aborted',
    'Integrity',
    'Internal',
  ] as const)('does not retry %s', async (code) => {
    const { inner, store } = setup();
    inner.failNext('get', storeError(code), unavailable());
    await expect(store.get('a')).rejects.toMatchObject({ code });
    expect(inner.calls.get).toBe(1);
  });

  it('follows the retryable flag, not the code, and never retries non-StoreErrors', async () => {
    const { inner, store } = setup();
    inner.failNext('head', new StoreError('Internal', 'retry me', { retryable: true }));
    inner.failNext('head', new StoreError('Unavailable', 'do not', { retryable: false }));
    await expect(store.head('missing')).rejects.toMatchObject({ message: 'do not' });
    expect(inner.calls.head).toBe(2);

    inner.failNext('head', new Error('plain'));
    await expect(store.head('missing')).rejects.toThrow('plain');
    expect(inner.calls.head).toBe(3);
  });

  it('never retries a put whose body is a stream, but retries the same put with bytes', async () => {
    const { inner, store } = setup();
    inner.failNext('put', unavailable());
    await expect(store.put('s', Readable.from([bytesOf(5)]))).rejects.toMatchObject({ code: 'Unavailable' });
    expect(inner.calls.put).toBe(1);

    const iterable = (async function* () {
      yield bytesOf(5);
    })();
    inner.failNext('put', unavailable());
    await expect(store.put('s', iterable)).rejects.toMatchObject({ code: 'Unavailable' });
    expect(inner.calls.put).toBe(2);

    inner.failNext('put', unavailable());
    await store.put('s', bytesOf(5));
    expect(inner.calls.put).toBe(4);
  });

  it('never retries a put after the store released its body, and passes the release on once', async () => {
    let attempts = 0;
    const inner = new (class extends StoreLayer {
      override async put(_key: string, _body: PutBody, options?: PutOptions): Promise<PutResult> {
        attempts++;
        if (attempts === 2) options?.onBodyReleased?.(); // the first attempt fails before it
        throw unavailable();
      }
    })(new MemoryStore());
    const store = withRetry(inner, { sleep: recordingSleep().sleep, random: mulberry32(1) });
    let released = 0;
    const put = store.put('k', bytesOf(5), { onBodyReleased: () => released++ });
    await expect(put).rejects.toMatchObject({ code: 'Unavailable' });
    expect(attempts).toBe(2);
    expect(released).toBe(1);
  });

  it('waits with capped exponential backoff and full jitter', async () => {
    const { inner, store, delays } = setup({ retries: 10, baseDelayMs: 100, maxDelayMs: 1000 });
    inner.failNext('head', ...Array.from({ length: 10 }, () => unavailable()));
    await inner.memory.put('a', bytesOf(1));
    await store.head('a');
    const ceilings = [100, 200, 400, 800, 1000, 1000, 1000, 1000, 1000, 1000];
    expect(delays).toHaveLength(10);
    delays.forEach((d, i) => {
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(ceilings[i] as number);
    });
    // full jitter: the waits are spread out, not pinned to the ceiling
    expect(new Set(delays).size).toBeGreaterThan(5);
  });

  it('draws every delay from the injected random source', async () => {
    const { inner, store, delays } = setup({ random: () => 0.5, baseDelayMs: 10, maxDelayMs: 30 });
    inner.failNext('head', unavailable(), unavailable(), unavailable());
    await inner.memory.put('a', bytesOf(1));
    await store.head('a');
    expect(delays).toEqual([5, 10, 15]);
  });

  it('ends a backoff with Aborted as soon as the signal fires', async () => {
    const inner = new ScriptedStore();
    inner.failNext('get', unavailable());
    const store = withRetry(inner, { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.99 });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    const error = await store.get('a', { signal: controller.signal }).catch((e: unknown) => e);
    expect(StoreError.is(error, 'Aborted')).toBe(true);
    expect((error as StoreError).message).toContain('get a');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(inner.calls.get).toBe(1);
  });

  it('does not wait at all when the signal fired before the failure', async () => {
    const controller = new AbortController();
    controller.abort();
    const { inner, store } = setup();
    inner.failNext('head', unavailable());
    await expect(store.head('a', { signal: controller.signal })).rejects.toMatchObject({ code: 'Aborted' });
    expect(inner.calls.head).toBe(1);
  });

  it('retries get until the body is returned, and leaves later body errors to the caller', async () => {
    const { inner, store } = setup();
    await inner.memory.put('a', bytesOf(100));
    inner.failNext('get', unavailable());
    const result = await store.get('a');
    expect(await readBody(result.body)).toEqual(bytesOf(100));
    expect(inner.calls.get).toBe(2);
  });

  it('retries a listing that fails before its first key', async () => {
    const { inner, store } = setup();
    for (const k of ['a', 'b', 'c']) await inner.memory.put(k, bytesOf(1));
    inner.failList({ after: 0, error: unavailable() });
    const keys: string[] = [];
    for await (const meta of store.list('')) keys.push(meta.key);
    expect(keys).toEqual(['a', 'b', 'c']);
    expect(inner.calls.list).toBe(2);
  });

  it('resumes a listing that fails midway after the last key it yielded', async () => {
    const { inner, store } = setup({ retries: 1 });
    const all = Array.from({ length: 10 }, (_, i) => `k${i}`);
    for (const k of all) await inner.memory.put(k, bytesOf(1));
    // three failures in a row would exceed retries: 1, but each follows progress
    inner.failList(
      { after: 3, error: unavailable() },
      { after: 2, error: unavailable() },
      { after: 4, error: unavailable() },
    );
    const keys: string[] = [];
    for await (const meta of store.list('k', { startAfter: 'k0' })) keys.push(meta.key);
    expect(keys).toEqual(all.slice(1));
    expect(inner.listOptions.map((o) => o?.startAfter)).toEqual(['k0', 'k3', 'k5', 'k9']);
  });

  it('gives up a listing that fails repeatedly without progress', async () => {
    const { inner, store } = setup({ retries: 2 });
    for (const k of ['a', 'b']) await inner.memory.put(k, bytesOf(1));
    inner.failList(
      { after: 1, error: unavailable() },
      { after: 0, error: unavailable() },
      { after: 0, error: unavailable() },
      { after: 0, error: unavailable() },
    );
    // the failure after 'a' and two more without progress: 1 + retries calls
    const keys: string[] = [];
    await expect(
      (async () => {
        for await (const meta of store.list()) keys.push(meta.key);
      })(),
    ).rejects.toMatchObject({ code: 'Unavailable' });
    expect(keys).toEqual(['a']);
    expect(inner.calls.list).toBe(3);
  });

  it('rethrows a non-retryable listing error at once', async () => {
    const { inner, store } = setup();
    await inner.memory.put('a', bytesOf(1));
    inner.failList({ after: 0, error: storeError('PermissionDenied') });
    await expect(
      (async () => {
        for await (const _ of store.list()) void _;
      })(),
    ).rejects.toMatchObject({ code: 'PermissionDenied' });
    expect(inner.calls.list).toBe(1);
  });

  it('retries only the keys of a deleteMany that failed transiently', async () => {
    const { inner, store } = setup();
    for (const k of ['a', 'b', 'c', 'd']) await inner.memory.put(k, bytesOf(1));
    const denied = storeError('PermissionDenied');
    inner.deleteFailures.push(
      new Map<string, Error>([
        ['b', unavailable()],
        ['c', denied],
      ]),
    );
    inner.deleteFailures.push(new Map<string, Error>([['b', unavailable()]]));
    const result = await store.deleteMany(['a', 'b', 'c', 'd']);
    expect(result.errors).toEqual([{ key: 'c', error: denied }]);
    expect(inner.calls.deleteMany).toBe(3);
    const left: string[] = [];
    for await (const meta of inner.memory.list()) left.push(meta.key);
    expect(left).toEqual(['c']);
  });

  it('reports still-failing keys when the deleteMany budget runs out', async () => {
    const { inner, store } = setup({ retries: 1 });
    await inner.memory.put('a', bytesOf(1));
    inner.deleteFailures.push(new Map([['a', unavailable()]]), new Map([['a', unavailable()]]));
    const result = await store.deleteMany(['a']);
    expect(result.errors.map((e) => e.key)).toEqual(['a']);
    expect(inner.calls.deleteMany).toBe(2);
  });

  it('retries a deleteMany call that throws', async () => {
    const { inner, store } = setup();
    await inner.memory.put('a', bytesOf(1));
    inner.failNext('deleteMany', unavailable());
    expect(await store.deleteMany(['a'])).toEqual({ errors: [] });
    expect(inner.calls.deleteMany).toBe(2);
  });

  it('passes name and capabilities through', () => {
    const { inner, store } = setup();
    expect(store.name).toBe(inner.name);
    expect(store.capabilities).toBe(inner.capabilities);
  });

  it.each([
    [{ retries: -1 }, 'retries'],
    [{ retries: 1.5 }, 'retries'],
    [{ baseDelayMs: Number.NaN }, 'baseDelayMs'],
    [{ maxDelayMs: -5 }, 'maxDelayMs'],
  ])('rejects bad options %j', (options, field) => {
    expect(() => withRetry(new ScriptedStore(), options)).toThrow(
      expect.objectContaining({
        code: 'InvalidArgument',
        message: expect.stringContaining(`withRetry ${field}`),
      }),
    );
  });
});
