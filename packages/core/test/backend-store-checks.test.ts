// BackendStore: what it refuses before any backend call (keys, ranges, options, modes, aborts),
// put modes, and the calls that are not requests (close, removeAbandoned, ensureExists).
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { BackendStore } from '../src/backend-store.js';
import type { PutBody, PutMode, PutOptions } from '../src/store.js';
import { bytesOf, listKeys, ScriptedBackend, scriptedStore, unavailable } from './layers/helpers.js';

/** Backend calls of any kind so far. */
const callsOf = (backend: ScriptedBackend) => Object.values(backend.calls).reduce((a, b) => a + b, 0);

describe('BackendStore put modes', () => {
  it('overwrites by default and passes the mode to the backend', async () => {
    const { backend, store } = scriptedStore();
    await store.put('a', bytesOf(1));
    await store.put('a', bytesOf(2), { mode: 'overwrite' });
    expect(backend.putOptions.map((o) => o.mode)).toEqual(['overwrite', 'overwrite']);
    expect((await store.head('a')).size).toBe(2);
  });

  it('create: AlreadyExists when the key exists, not retried', async () => {
    const { backend, store } = scriptedStore();
    await store.put('a', bytesOf(1), { mode: 'create' });
    await expect(store.put('a', bytesOf(2), { mode: 'create' })).rejects.toMatchObject({
      code: 'AlreadyExists',
    });
    expect(backend.calls.put).toBe(2);
    expect((await store.head('a')).size).toBe(1);
  });

  it('{update}: replaces only the version given, else PreconditionFailed', async () => {
    const { backend, store } = scriptedStore();
    const first = await store.put('a', bytesOf(1));
    const second = await store.put('a', bytesOf(2), { mode: { update: first.version } });
    await expect(store.put('a', bytesOf(3), { mode: { update: first.version } })).rejects.toMatchObject({
      code: 'PreconditionFailed',
    });
    await expect(store.put('b', bytesOf(3), { mode: { update: first.version } })).rejects.toMatchObject({
      code: 'PreconditionFailed',
    });
    expect(backend.putOptions[1]?.mode).toEqual({ update: first.version });
    expect((await store.head('a')).version).toBe(second.version);
  });

  it('refuses a mode the backend cannot enforce with Unsupported, before calling it', async () => {
    const backend = new ScriptedBackend({
      capabilities: { conditionalCreate: false, conditionalReplace: false },
    });
    const { store } = scriptedStore({}, backend);
    await expect(store.put('a', bytesOf(1), { mode: 'create' })).rejects.toMatchObject({
      code: 'Unsupported',
      operation: 'put',
    });
    await expect(store.put('a', bytesOf(1), { mode: { update: 'v1' } })).rejects.toMatchObject({
      code: 'Unsupported',
    });
    expect(backend.calls.put).toBe(0);
    await store.put('a', bytesOf(1));
    expect(backend.calls.put).toBe(1);
  });

  it.each(['replace', '', { update: '' }, { update: 5 }, {}, [], { ifMatch: 'v1' }])(
    'refuses the malformed mode %j with InvalidArgument, before calling the backend',
    async (mode) => {
      const { backend, store } = scriptedStore();
      await expect(store.put('a', bytesOf(1), { mode: mode as PutMode })).rejects.toMatchObject({
        code: 'InvalidArgument',
      });
      expect(backend.calls.put).toBe(0);
    },
  );
});

describe('BackendStore validation', () => {
  const bad: [string, string][] = [
    ['empty', ''],
    ['with a leading /', '/a'],
    ['with //', 'a//b'],
    ['with a trailing /', 'a/'],
    ['with ..', 'a/../b'],
    ['ending with .', 'a.'],
    ['with a backslash', 'a\\b'],
    ['of 1025 bytes', 'x'.repeat(1025)],
  ];

  it.each(bad)('refuses a key %s for every operation before any backend call', async (_what, key) => {
    const { backend, store } = scriptedStore();
    const calls = [
      async () => store.put(key, bytesOf(1)),
      async () => store.get(key),
      async () => store.get(key, { range: { offset: 0, length: 0 } }),
      async () => store.head(key),
      async () => store.delete(key),
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'InvalidArgument' });
    // deleteMany reports it with the keys that could not be deleted
    expect(await store.deleteMany([key])).toEqual({
      errors: [{ key, error: expect.objectContaining({ code: 'InvalidArgument', operation: 'deleteMany' }) }],
    });
    expect(callsOf(backend)).toBe(0);
  });

  it('rejects a bad key through the promise, never by a synchronous throw', async () => {
    const { store } = scriptedStore();
    const outcomes: string[] = [];
    const calls = {
      put: () => store.put('/a', bytesOf(1)),
      get: () => store.get('/a'),
      head: () => store.head('/a'),
      delete: () => store.delete('/a'),
    };
    for (const [op, call] of Object.entries(calls)) {
      try {
        await call().catch(() => outcomes.push(`${op} rejected`));
      } catch {
        outcomes.push(`${op} threw`);
      }
    }
    expect(outcomes).toEqual(Object.keys(calls).map((op) => `${op} rejected`));
  });

  it.each([
    { offset: -1 },
    { offset: 1.5 },
    { offset: Number.NaN },
    { offset: 0, length: -1 },
    { offset: 0, length: 2 ** 53 },
  ])('refuses the range %j before any backend call', async (range) => {
    const { backend, store } = scriptedStore();
    await backend.seed('a', bytesOf(10));
    await expect(store.get('a', { range })).rejects.toMatchObject({
      code: 'InvalidArgument',
      operation: 'get',
    });
    expect(callsOf(backend)).toBe(0);
  });

  it.each<[string, PutBody, PutOptions, string]>([
    ['a negative size', bytesOf(1), { size: -1 }, 'InvalidArgument'],
    ['a fractional size', bytesOf(1), { size: 0.5 }, 'InvalidArgument'],
    ['a size past maxObjectSize', Readable.from([]), { size: 2 * 1024 ** 3 + 1 }, 'InvalidArgument'],
    ['bytes of another size', bytesOf(3), { size: 4 }, 'Integrity'],
    ['a body that is no body', 'text' as unknown as PutBody, {}, 'InvalidArgument'],
    ['a metadata name out of [a-z0-9-]', bytesOf(1), { metadata: { Kind: 'x' } }, 'InvalidArgument'],
    [
      'a metadata value that is no string',
      bytesOf(1),
      { metadata: { kind: 1 as unknown as string } },
      'InvalidArgument',
    ],
  ])('refuses %s before calling the backend', async (_what, body, options, code) => {
    const { backend, store } = scriptedStore();
    await expect(store.put('a', body, options)).rejects.toMatchObject({ code, operation: 'put' });
    expect(backend.calls.put).toBe(0);
  });

  it('passes valid sizes and metadata, and drops metadata a backend cannot store', async () => {
    const { backend, store } = scriptedStore();
    await store.put('a', bytesOf(3), { size: 3, metadata: { 'kind-2': 'x' } });
    expect(backend.putOptions[0]).toMatchObject({ size: 3, metadata: { 'kind-2': 'x' } });

    const plain = new ScriptedBackend({ capabilities: { metadata: false } });
    await scriptedStore({}, plain).store.put('a', bytesOf(3), { metadata: { Kind: 'ignored' } });
    expect(plain.putOptions[0]).not.toHaveProperty('metadata');
  });

  it('refuses a list prefix no key can start with before listing', async () => {
    const { backend, store } = scriptedStore();
    expect((await listKeys(store.list('a//b'))).error).toMatchObject({ code: 'InvalidArgument' });
    expect(backend.calls.list).toBe(0);
  });
});

describe('BackendStore aborts', () => {
  it('fails every operation with Aborted before a backend call once the signal fired', async () => {
    const { backend, store } = scriptedStore();
    await backend.seed('a', bytesOf(10));
    const controller = new AbortController();
    controller.abort();
    const signal = controller.signal;
    const calls = [
      () => store.put('a', bytesOf(1), { signal }),
      () => store.put('a', Readable.from([bytesOf(1)]), { signal }),
      () => store.get('a', { signal }),
      () => store.head('a', { signal }),
      () => store.delete('a', { signal }),
      () => store.deleteMany(['a', 'b'], { signal }),
      async () => {
        const { error } = await listKeys(store.list('', { signal }));
        throw error;
      },
    ];
    for (const call of calls) await expect(call()).rejects.toMatchObject({ code: 'Aborted' });
    expect(callsOf(backend)).toBe(0);
  });

  it('checks the signal before each retry', async () => {
    const controller = new AbortController();
    // a backoff that does not notice the abort: the attempt after it must
    const { backend, store } = scriptedStore({ sleep: async () => controller.abort() });
    await backend.seed('a', bytesOf(1));
    backend.failNext('head', unavailable());
    await expect(store.head('a', { signal: controller.signal })).rejects.toMatchObject({ code: 'Aborted' });
    expect(backend.calls.head).toBe(1);
  });
});

describe('BackendStore lifecycle', () => {
  it('closes the backend once however often it is closed', async () => {
    const { backend, store } = scriptedStore();
    await Promise.all([store.close(), store.close()]);
    await store.close();
    expect(backend.closes).toBe(1);
  });

  it('reads a failed close as a StoreError', async () => {
    const { backend, store } = scriptedStore();
    backend.closeError = new Error('socket stuck');
    await expect(store.close()).rejects.toMatchObject({ code: 'Internal', message: 'close: socket stuck' });
    await expect(store.close()).rejects.toMatchObject({ code: 'Internal' });
    expect(backend.closes).toBe(1);
  });

  it('removeAbandoned: checks its argument, needs no backend support, is not retried', async () => {
    const { store } = scriptedStore();
    await expect(store.removeAbandoned(-1)).rejects.toMatchObject({ code: 'InvalidArgument' });
    await expect(store.removeAbandoned(Number.NaN)).rejects.toMatchObject({ code: 'InvalidArgument' });
    expect(await store.removeAbandoned(0)).toEqual({ removed: 0, bytes: 0 });

    const backend = new ScriptedBackend();
    const asked: number[] = [];
    const store2 = new BackendStore(
      Object.assign(backend, {
        removeAbandoned: async (olderThanMs: number) => {
          asked.push(olderThanMs);
          throw unavailable();
        },
      }),
    );
    await expect(store2.removeAbandoned(500)).rejects.toMatchObject({ code: 'Unavailable' });
    expect(asked).toEqual([500]);
  });

  it('ensureExists: retried like a request, a no-op without backend support', async () => {
    const { store } = scriptedStore();
    await store.ensureExists();
    let attempts = 0;
    const backend = Object.assign(new ScriptedBackend(), {
      ensureExists: async () => {
        if (++attempts < 3) throw unavailable();
      },
    });
    await scriptedStore({}, backend).store.ensureExists();
    expect(attempts).toBe(3);
  });
});
