// BackendStore: the one retry policy, and how a backend's failures become StoreErrors.
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendStore } from '../src/backend-store.js';
import { StoreError } from '../src/errors.js';
import {
  bytesOf,
  errnoFailure,
  ScriptedBackend,
  scriptedStore,
  storeError,
  unavailable,
} from './layers/helpers.js';

const failures = (n: number) => Array.from({ length: n }, () => unavailable());

describe('BackendStore retries', () => {
  it('retries retryable errors until the request succeeds, reporting each retry', async () => {
    const { backend, store, events, delays } = scriptedStore();
    backend.failNext('put', unavailable(), unavailable());
    expect((await store.put('a', bytesOf(10))).size).toBe(10);
    expect(backend.calls.put).toBe(3);
    expect(events.map((e) => [e.op, e.key, e.attempt, e.error.code])).toEqual([
      ['put', 'a', 1, 'Unavailable'],
      ['put', 'a', 2, 'Unavailable'],
    ]);
    expect(events.map((e) => e.delayMs)).toEqual(delays);
  });

  it('gives up after `attempts` calls and rethrows the last error', async () => {
    const { backend, store } = scriptedStore({ attempts: 3 });
    const last = unavailable('last');
    backend.failNext('head', unavailable(), unavailable(), last, unavailable());
    await expect(store.head('a')).rejects.toBe(last);
    expect(backend.calls.head).toBe(3);
  });

  it('makes 5 attempts by default, and 1 with `retry: false`', async () => {
    const { backend, store } = scriptedStore({ attempts: undefined });
    backend.failNext('delete', ...failures(10));
    await expect(store.delete('a')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(backend.calls.delete).toBe(5);

    const once = new ScriptedBackend();
    once.failNext('delete', unavailable());
    await expect(new BackendStore(once, { retry: false }).delete('a')).rejects.toMatchObject({
      code: 'Unavailable',
    });
    expect(once.calls.delete).toBe(1);
  });

  it.each([
    'NotFound',
    'AlreadyExists',
    'PreconditionFailed',
    'Conflict',
    'PermissionDenied',
    'InvalidArgument',
    'Aborted',
    'Integrity',
    'Unsupported',
    'Internal',
  ] as const)('does not retry %s', async (code) => {
    const { backend, store, events } = scriptedStore();
    await backend.seed('a', bytesOf(3));
    backend.failNext('get', storeError(code), unavailable());
    await expect(store.get('a')).rejects.toMatchObject({ code });
    expect(backend.calls.get).toBe(1);
    expect(events).toEqual([]);
  });

  it('follows the retryable flag, not the code', async () => {
    const { backend, store } = scriptedStore();
    backend.failNext(
      'head',
      new StoreError('Internal', 'retry me', { retryable: true }),
      new StoreError('Unavailable', 'do not', { retryable: false }),
    );
    await expect(store.head('a')).rejects.toMatchObject({ message: 'do not' });
    expect(backend.calls.head).toBe(2);
  });

  it('waits with capped exponential backoff and full jitter drawn from `random`', async () => {
    const { backend, store, delays } = scriptedStore({ random: () => 0.5, baseDelayMs: 10, maxDelayMs: 30 });
    await backend.seed('a', bytesOf(1));
    backend.failNext('head', ...failures(4));
    await store.head('a');
    expect(delays).toEqual([5, 10, 15, 15]);
  });

  describe('maxElapsedMs', () => {
    afterEach(() => vi.restoreAllMocks());

    it('starts no retry later than maxElapsedMs after the request began', async () => {
      let clock = 1000;
      vi.spyOn(performance, 'now').mockImplementation(() => clock);
      const backend = new ScriptedBackend();
      const events: number[] = [];
      const store = new BackendStore(backend, {
        retry: {
          attempts: 10,
          baseDelayMs: 100,
          maxDelayMs: 100,
          maxElapsedMs: 250,
          random: () => 0.99,
          onRetry: (e) => events.push(e.delayMs),
          sleep: async (ms) => {
            clock += ms;
          },
        },
      });
      backend.failNext('head', ...failures(10));
      // retries at 99 and 198 ms; a third would start at 297 ms
      await expect(store.head('a')).rejects.toMatchObject({ code: 'Unavailable' });
      expect(events).toEqual([99, 99]);
      expect(backend.calls.head).toBe(3);
    });
  });

  it('ends a backoff with Aborted as soon as the signal fires', async () => {
    const backend = new ScriptedBackend();
    backend.failNext('get', unavailable());
    const store = new BackendStore(backend, {
      retry: { baseDelayMs: 60_000, maxDelayMs: 60_000, random: () => 0.99 },
    });
    const controller = new AbortController();
    const started = performance.now();
    setTimeout(() => controller.abort(), 20);
    const error = await store.get('a', { signal: controller.signal }).catch((e: unknown) => e);
    expect(StoreError.is(error, 'Aborted')).toBe(true);
    expect((error as StoreError).message).toContain('get a');
    expect(performance.now() - started).toBeLessThan(2000);
    expect(backend.calls.get).toBe(1);
  });

  it.each([
    [{ attempts: 0 }, 'attempts'],
    [{ attempts: 1.5 }, 'attempts'],
    [{ baseDelayMs: Number.NaN }, 'baseDelayMs'],
    [{ maxDelayMs: -5 }, 'maxDelayMs'],
    [{ maxElapsedMs: -1 }, 'maxElapsedMs'],
  ])('rejects bad retry options %j', (retry, field) => {
    expect(() => new BackendStore(new ScriptedBackend(), { retry })).toThrow(
      expect.objectContaining({
        code: 'InvalidArgument',
        message: expect.stringContaining(`retry ${field}`),
      }),
    );
  });
});

describe('BackendStore error mapping', () => {
  it('reads errno errors by their code, keeping the error as cause', async () => {
    const { backend, store } = scriptedStore();
    await backend.seed('a', bytesOf(1));
    const reset = errnoFailure('ECONNRESET');
    backend.failNext('head', reset);
    await expect(store.head('a')).resolves.toMatchObject({ size: 1 });
    expect(backend.calls.head).toBe(2);

    const missing = errnoFailure('ENOENT');
    backend.failNext('head', missing);
    await expect(store.head('a')).rejects.toMatchObject({
      code: 'NotFound',
      cause: missing,
      message: expect.stringMatching(/^head a: ENOENT/),
    });
    backend.failNext('head', errnoFailure('EACCES'));
    await expect(store.head('a')).rejects.toMatchObject({ code: 'PermissionDenied' });
    // a full disk stays full: Unavailable, but not retried
    backend.failNext('put', errnoFailure('ENOSPC'), unavailable());
    await expect(store.put('b', bytesOf(1))).rejects.toMatchObject({ code: 'Unavailable', retryable: false });
    expect(backend.calls.head).toBe(4);
    expect(backend.calls.put).toBe(1);
  });

  it('reads anything else as Internal with the cause, never retried, credentials redacted', async () => {
    const { backend, store } = scriptedStore();
    const boom = new Error('boom password=hunter2');
    backend.failNext('delete', boom, 'a thrown string', errnoFailure('EWHATEVER'));
    const error = await store.delete('k').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'Internal', cause: boom, operation: 'delete', key: 'k' });
    expect((error as StoreError).message).toBe('delete k: boom password=<redacted>');
    await expect(store.delete('k')).rejects.toMatchObject({
      code: 'Internal',
      message: 'delete k: a thrown string',
    });
    await expect(store.delete('k')).rejects.toMatchObject({ code: 'Internal' });
    expect(backend.calls.delete).toBe(3);
  });

  it("asks the backend's toStoreError first, then errno; never for StoreErrors", async () => {
    const { backend, store } = scriptedStore();
    const seen: unknown[] = [];
    backend.toStoreError = (error, context) => {
      seen.push(error);
      if ((error as Error).name === 'SlowDown') return new StoreError('Unavailable', 'throttled', context);
      if ((error as Error).name === 'Forbidden') return new StoreError('PermissionDenied', 'denied', context);
      return undefined;
    };
    const slowDown = Object.assign(new Error('slow down'), { name: 'SlowDown' });
    const forbidden = Object.assign(new Error('forbidden'), { name: 'Forbidden', code: 'ENOENT' });
    const enoent = errnoFailure('ENOENT');
    const scripted = storeError('Conflict');
    backend.failNext('head', slowDown, forbidden, enoent, scripted);
    await expect(store.head('a')).rejects.toMatchObject({
      code: 'PermissionDenied',
      message: 'head a: denied',
    });
    await expect(store.head('a')).rejects.toMatchObject({ code: 'NotFound', cause: enoent });
    await expect(store.head('a')).rejects.toBe(scripted);
    expect(backend.calls.head).toBe(4);
    expect(seen).toEqual([slowDown, forbidden, enoent]);
  });

  it("tells the backend's toStoreError the mode of a failed put", async () => {
    const { backend, store } = scriptedStore();
    const contexts: unknown[] = [];
    backend.toStoreError = (_error, context) => {
      contexts.push(context);
      return undefined;
    };
    backend.failNext('put', new Error('412'), new Error('412'));
    await expect(store.put('a', bytesOf(1), { mode: 'create' })).rejects.toMatchObject({ code: 'Internal' });
    await expect(store.put('a', bytesOf(1), { mode: { update: 'v1' } })).rejects.toMatchObject({
      code: 'Internal',
    });
    expect(contexts).toEqual([
      { operation: 'put', key: 'a', mode: 'create' },
      { operation: 'put', key: 'a', mode: { update: 'v1' } },
    ]);
  });

  it('reads an AbortError, and any failure after the signal fired, as Aborted', async () => {
    const { backend, store } = scriptedStore();
    backend.failNext('head', Object.assign(new Error('gone'), { name: 'AbortError' }));
    await expect(store.head('a')).rejects.toMatchObject({
      code: 'Aborted',
      message: 'head a: the operation was aborted',
    });

    const controller = new AbortController();
    backend.onPut = () => controller.abort();
    backend.failNext('put', unavailable());
    await expect(store.put('a', bytesOf(1), { signal: controller.signal })).rejects.toMatchObject({
      code: 'Aborted',
    });
    expect(backend.calls.put).toBe(1);
  });
});

describe('BackendStore put bodies', () => {
  it('never retries a put whose body is a stream, but retries the same put with bytes', async () => {
    const { backend, store } = scriptedStore();
    backend.failNext('put', unavailable());
    await expect(store.put('s', Readable.from([bytesOf(5)]))).rejects.toMatchObject({ code: 'Unavailable' });
    expect(backend.calls.put).toBe(1);

    backend.failNext('put', unavailable());
    const iterable = (async function* () {
      yield bytesOf(5);
    })();
    await expect(store.put('s', iterable)).rejects.toMatchObject({ code: 'Unavailable' });
    expect(backend.calls.put).toBe(2);

    backend.failNext('put', unavailable());
    await store.put('s', bytesOf(5));
    expect(backend.calls.put).toBe(4);
  });

  it('never retries a put after the backend released its body, and tells the caller once', async () => {
    const { backend, store } = scriptedStore();
    let attempts = 0;
    backend.onPut = (options) => {
      attempts++;
      if (attempts === 2) options.onBodyReleased?.(); // the first attempt fails before it
    };
    backend.failNext('put', ...failures(4));
    let released = 0;
    const put = store.put('k', bytesOf(5), { onBodyReleased: () => released++ });
    await expect(put).rejects.toMatchObject({ code: 'Unavailable' });
    expect(backend.calls.put).toBe(2);
    expect(released).toBe(1);
  });

  it('passes a stream put the caller’s onBodyReleased itself', async () => {
    const { backend, store } = scriptedStore();
    const onBodyReleased = () => {};
    await store.put('k', Readable.from([bytesOf(2)]), { onBodyReleased, size: 2 });
    expect(backend.putOptions[0]).toMatchObject({ onBodyReleased, size: 2, mode: 'overwrite' });
  });
});

describe('BackendStore create-only puts retried', () => {
  /** Writes, then loses the answer of its next `losing` puts (a connection that broke after the server applied the request). */
  class AnswerLosingBackend extends ScriptedBackend {
    losing = 0;
    override async put(...args: Parameters<ScriptedBackend['put']>) {
      const result = await super.put(...args);
      if (this.losing-- > 0) throw unavailable();
      return result;
    }
  }

  it('succeeds when the answer to its write was lost and the key holds exactly its bytes', async () => {
    const backend = new AnswerLosingBackend();
    const { store } = scriptedStore({}, backend);
    backend.losing = 1;
    const put = await store.put('m', bytesOf(2500), { mode: 'create' });
    expect(put).toEqual({ version: (await store.head('m')).version, size: 2500 });
    expect(backend.calls.put).toBe(2);
  });

  it('fails with AlreadyExists when the key holds other bytes, or on a first attempt', async () => {
    const { backend, store } = scriptedStore();
    await backend.seed('other', bytesOf(2499));
    backend.failNext('put', unavailable());
    await expect(store.put('other', bytesOf(2500), { mode: 'create' })).rejects.toMatchObject({
      code: 'AlreadyExists',
    });
    expect(backend.calls.get).toBe(1);
    await backend.seed('same', bytesOf(2500));
    await expect(store.put('same', bytesOf(2500), { mode: 'create' })).rejects.toMatchObject({
      code: 'AlreadyExists',
    });
    expect(backend.calls.get).toBe(1); // nothing was uncertain: not even read
  });
});
