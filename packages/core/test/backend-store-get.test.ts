// BackendStore.get: zero-length ranges, and bodies that break and are resumed from the first
// byte not delivered (ResumableBody).
import { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import { readAll } from '../src/body.js';
import { StoreError } from '../src/errors.js';
import {
  bytesOf,
  drain,
  errnoFailure,
  ScriptedBackend,
  scriptedStore,
  storeError,
  unavailable,
} from './layers/helpers.js';

const data = bytesOf(10_000);

async function seeded(retry = {}) {
  const setup = scriptedStore(retry);
  await setup.backend.seed('a', data);
  return setup;
}

describe('BackendStore.get', () => {
  it('answers a zero-length range with a head, never a backend get', async () => {
    const { backend, store } = await seeded();
    const got = await store.get('a', { range: { offset: 300, length: 0 } });
    expect(got.range).toEqual({ offset: 300, length: 0 });
    expect(got).toMatchObject({ key: 'a', size: 10_000 });
    expect(await readAll(got.body)).toEqual(Buffer.alloc(0));
    const past = await store.get('a', { range: { offset: 50_000, length: 0 } });
    expect(past.range).toEqual({ offset: 10_000, length: 0 });
    await expect(store.get('missing', { range: { offset: 0, length: 0 } })).rejects.toMatchObject({
      code: 'NotFound',
    });
    expect(backend.calls).toMatchObject({ get: 0, head: 3 });
  });

  it('retries a get that fails before its body, and passes range and into on', async () => {
    const { backend, store } = await seeded();
    backend.failNext('get', unavailable());
    const into = new Uint8Array(100);
    const got = await store.get('a', { range: { offset: 10, length: 100 }, into });
    expect(await readAll(got.body)).toEqual(data.subarray(10, 110));
    expect(backend.calls.get).toBe(2);
    expect(backend.getOptions.map((o) => [o.range, o.into])).toEqual([
      [{ offset: 10, length: 100 }, into],
      [{ offset: 10, length: 100 }, into],
    ]);
  });

  it.each([
    ['another offset', { offset: 0, length: 100 }],
    ['more bytes than asked', { offset: 10, length: 101 }],
  ])('fails with Internal when the backend answers %s, not retried', async (_what, answered) => {
    const backend = new (class extends ScriptedBackend {
      readonly bodies: Readable[] = [];
      override async get(key: string, options: Parameters<ScriptedBackend['get']>[1]) {
        const result = await super.get(key, { ...options, range: answered });
        this.bodies.push(result.body);
        return result;
      }
    })();
    await backend.seed('a', data);
    const { store } = scriptedStore({}, backend);
    await expect(store.get('a', { range: { offset: 10, length: 100 } })).rejects.toMatchObject({
      code: 'Internal',
      operation: 'get',
      key: 'a',
    });
    expect(backend.calls.get).toBe(1);
    expect(backend.bodies[0]?.destroyed).toBe(true);
  });
});

describe('closing a get body', () => {
  it('closes only after the backend body has closed (until then it may still write into `into`)', async () => {
    const order: string[] = [];
    const backend = new (class extends ScriptedBackend {
      override async get(key: string, options: Parameters<ScriptedBackend['get']>[1]) {
        const result = await super.get(key, options);
        const slow = new Readable({
          read() {},
          destroy(error, callback) {
            // a read in flight finishes before the handle closes
            setTimeout(() => {
              order.push('backend body closed');
              callback(error);
            }, 30);
          },
        });
        return { ...result, body: slow };
      }
    })();
    await backend.seed('a', data);
    const { store } = scriptedStore({}, backend);
    const got = await store.get('a');
    const closed = new Promise<void>((resolve) =>
      got.body.once('close', () => {
        order.push('store body closed');
        resolve();
      }),
    );
    got.body.destroy();
    await closed;
    expect(order).toEqual(['backend body closed', 'store body closed']);
  });
});

describe('a broken get body', () => {
  it('resumes from the byte where it broke: each byte once, into filled at its place', async () => {
    const { backend, store, events } = await seeded();
    backend.cutNext({ after: 3000, error: unavailable() });
    const into = new Uint8Array(6000);
    const got = await store.get('a', { range: { offset: 1000, length: 6000 }, into });
    const chunks: Buffer[] = [];
    got.body.on('data', (chunk: Buffer) => chunks.push(chunk));
    await finished(got.body);
    expect(Buffer.concat(chunks)).toEqual(data.subarray(1000, 7000));
    expect(backend.getOptions.map((o) => o.range)).toEqual([
      { offset: 1000, length: 6000 },
      { offset: 4000, length: 3000 },
    ]);
    // the resumed read writes where the broken one stopped, and every chunk is a view of `into`
    const rest = backend.getOptions[1]?.into;
    expect(rest?.buffer).toBe(into.buffer);
    expect(rest?.byteOffset).toBe(into.byteOffset + 3000);
    expect(Buffer.from(into)).toEqual(data.subarray(1000, 7000));
    expect(chunks.every((c) => c.buffer === into.buffer)).toBe(true);
    expect(events.map((e) => [e.op, e.key, e.error.code])).toEqual([['get', 'a', 'Unavailable']]);
  });

  it('resumes a whole-object read, and a body that ends early as one that broke', async () => {
    const { backend, store } = await seeded();
    backend.cutNext({ after: 2000 }, { after: 5000, error: errnoFailure('ECONNRESET') });
    const got = await store.get('a');
    expect(got.range).toEqual({ offset: 0, length: 10_000 });
    expect(await readAll(got.body)).toEqual(data);
    expect(backend.getOptions.map((o) => o.range)).toEqual([
      undefined,
      { offset: 2000, length: 8000 },
      { offset: 7000, length: 3000 },
    ]);
  });

  it('fails with Internal when the resumed read answers other bytes than the rest, never delivering them', async () => {
    // a backend that ignores the range of every get but the first: the rest would start at 0
    const backend = new (class extends ScriptedBackend {
      override async get(key: string, options: Parameters<ScriptedBackend['get']>[1]) {
        const first = this.calls.get === 0;
        return super.get(key, first ? options : { ...options, range: undefined });
      }
    })();
    await backend.seed('a', data);
    const { store } = scriptedStore({}, backend);
    backend.cutNext({ after: 3000, error: unavailable() });
    const { bytes, error } = await drain((await store.get('a')).body);
    expect(bytes).toBe(3000);
    expect(error).toMatchObject({ code: 'Internal', operation: 'get', key: 'a' });
  });

  it('retries a resume that fails before its body', async () => {
    const backend = new ScriptedBackend();
    await backend.seed('a', data);
    // the backoff after the break makes the resume's first request fail
    let backoffs = 0;
    const sleep = async () => {
      if (++backoffs === 1) backend.failNext('get', unavailable());
    };
    const { store } = scriptedStore({ sleep }, backend);
    backend.cutNext({ after: 4000, error: unavailable() });
    expect(await readAll((await store.get('a')).body)).toEqual(data);
    expect(backend.getOptions.map((o) => o.range)).toEqual([
      undefined,
      { offset: 4000, length: 6000 },
      { offset: 4000, length: 6000 },
    ]);
  });

  it('fails with Conflict when the object was replaced before the resume', async () => {
    const backend = new ScriptedBackend();
    await backend.seed('a', data);
    const { store } = scriptedStore(
      { sleep: async () => void (await backend.seed('a', bytesOf(10_000).reverse())) },
      backend,
    );
    backend.cutNext({ after: 3000, error: unavailable() });
    const { bytes, error } = await drain((await store.get('a')).body);
    expect(bytes).toBe(3000);
    expect(error).toMatchObject({ code: 'Conflict', operation: 'get', key: 'a' });
    expect(backend.calls.get).toBe(2);
  });

  it.each(['Integrity', 'PermissionDenied', 'Internal'] as const)(
    'is not resumed when it fails with %s',
    async (code) => {
      const { backend, store } = await seeded();
      backend.cutNext({ after: 3000, error: storeError(code) });
      const { bytes, error } = await drain((await store.get('a')).body);
      expect(bytes).toBe(3000);
      expect(StoreError.is(error, code)).toBe(true);
      expect(backend.calls.get).toBe(1);
    },
  );

  it('reads a non-StoreError body failure like any other failure', async () => {
    const { backend, store } = await seeded();
    const odd = new Error('odd');
    backend.cutNext({ after: 1000, error: odd });
    const { error } = await drain((await store.get('a')).body);
    expect(error).toMatchObject({ code: 'Internal', cause: odd });
    expect(backend.calls.get).toBe(1);
  });

  it('gives up after `attempts` reads that deliver nothing; progress renews the budget', async () => {
    const stuck = await seeded({ attempts: 3 });
    stuck.backend.cutNext(...Array.from({ length: 5 }, () => ({ after: 0, error: unavailable() })));
    const { bytes, error } = await drain((await stuck.store.get('a')).body);
    expect(bytes).toBe(0);
    expect(StoreError.is(error, 'Unavailable')).toBe(true);
    expect(stuck.backend.calls.get).toBe(3);

    const moving = await seeded({ attempts: 2 });
    moving.backend.cutNext(...Array.from({ length: 4 }, () => ({ after: 2000, error: unavailable() })));
    expect(await readAll((await moving.store.get('a')).body)).toEqual(data);
    expect(moving.backend.calls.get).toBe(5);
  });

  it('never asks the backend for a zero-length rest when the body broke after its last byte', async () => {
    const { backend, store } = await seeded();
    backend.cutNext({ after: 10_000, error: unavailable() });
    expect(await readAll((await store.get('a', { range: { offset: 0, length: 10_000 } })).body)).toEqual(
      data,
    );
    expect(backend.getOptions.filter((o) => o.range?.length === 0)).toEqual([]);
  });

  it('reads nothing before its reader asks: a break before then is resumed when it does', async () => {
    const { backend, store } = await seeded();
    backend.cutNext({ after: 0, error: unavailable() });
    const got = await store.get('a');
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(backend.calls.get).toBe(1);
    expect(await readAll(got.body)).toEqual(data);
    expect(backend.calls.get).toBe(2);
  });

  it('keeps a failure that came before its reader asked for the reader', async () => {
    const { backend, store } = await seeded();
    backend.cutNext({ after: 0, error: storeError('Integrity') });
    const got = await store.get('a');
    await new Promise((resolve) => setTimeout(resolve, 20)); // no error is emitted unheard meanwhile
    const { bytes, error } = await drain(got.body);
    expect(bytes).toBe(0);
    expect(StoreError.is(error, 'Integrity')).toBe(true);
  });

  it('stops resuming once the signal fired', async () => {
    const controller = new AbortController();
    const backend = new ScriptedBackend();
    await backend.seed('a', data);
    const { store } = scriptedStore({ sleep: async () => controller.abort() }, backend);
    backend.cutNext({ after: 3000, error: unavailable() });
    const { bytes, error } = await drain((await store.get('a', { signal: controller.signal })).body);
    expect(bytes).toBe(3000);
    expect(StoreError.is(error, 'Aborted')).toBe(true);
    expect(backend.calls.get).toBe(1);
  });

  it('destroying the body destroys the backend body', async () => {
    const { backend, store } = await seeded();
    const inner: Readable[] = [];
    const get = backend.get.bind(backend);
    backend.get = async (key, options) => {
      const result = await get(key, options);
      inner.push(result.body);
      return result;
    };
    const got = await store.get('a');
    got.body.destroy();
    await new Promise((resolve) => setImmediate(resolve));
    expect(inner).toHaveLength(1);
    expect(inner[0]?.destroyed).toBe(true);
  });
});
