// BackendStore.deleteMany: batches through the backend's deleteBatch, per-key retries.
import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import {
  bytesOf,
  errnoFailure,
  ScriptedBackend,
  scriptedStore,
  storeError,
  unavailable,
} from './layers/helpers.js';

const keysOf = (n: number) => Array.from({ length: n }, (_, i) => `k${String(i).padStart(2, '0')}`);

async function seeded(keys: string[], backend = new ScriptedBackend(), retry = {}) {
  const setup = scriptedStore(retry, backend);
  for (const key of keys) await backend.seed(key, bytesOf(1));
  return setup;
}

describe('BackendStore.deleteMany', () => {
  it('batches by batchDeleteSize; a batch of one key is a delete', async () => {
    const keys = keysOf(6);
    const { backend, store } = await seeded(
      [...keys, 'kept'],
      new ScriptedBackend({ capabilities: { batchDeleteSize: 3 } }),
    );
    expect(await store.deleteMany([...keys, 'missing'])).toEqual({ errors: [] });
    expect(backend.batches.map((b) => b.length)).toEqual([3, 3]);
    expect(backend.batches.flat().sort()).toEqual(keys);
    expect(backend.calls.delete).toBe(1);
    expect(await backend.keys()).toEqual(['kept']);
  });

  it('deletes key by key when the backend has no deleteBatch', async () => {
    const keys = keysOf(5);
    const { backend, store } = await seeded(keys, new ScriptedBackend({ batch: false }));
    expect(await store.deleteMany(keys)).toEqual({ errors: [] });
    expect(backend.calls).toMatchObject({ delete: 5, deleteMany: 0 });
    expect(await backend.keys()).toEqual([]);
    expect(await store.deleteMany([])).toEqual({ errors: [] });
    expect(backend.calls.delete).toBe(5);
  });

  it('reports bad keys per key and deletes the others; a key given twice is deleted once', async () => {
    const { backend, store } = await seeded(['a', 'b', 'c']);
    const { errors } = await store.deleteMany(['a', '/bad', 'b', 'a', 'c//d', 'b']);
    expect(errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([
      ['/bad', 'InvalidArgument'],
      ['c//d', 'InvalidArgument'],
    ]);
    expect(backend.batches).toEqual([['a', 'b']]);
    expect(await backend.keys()).toEqual(['c']);
  });

  it('retries only the keys that failed with a retryable error', async () => {
    const { backend, store, events } = await seeded(['a', 'b', 'c', 'd']);
    backend.deleteFailures.push(
      new Map<string, unknown>([
        ['b', unavailable()],
        ['c', storeError('PermissionDenied')],
      ]),
      new Map([['b', errnoFailure('ECONNRESET')]]),
    );
    const { errors } = await store.deleteMany(['a', 'b', 'c', 'd']);
    expect(errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([['c', 'PermissionDenied']]);
    expect(backend.batches).toEqual([['a', 'b', 'c', 'd'], ['b'], ['b']]);
    expect(events.map((e) => [e.op, e.key])).toEqual([
      ['deleteMany', 'a'],
      ['deleteMany', 'a'],
    ]);
    expect(await backend.keys()).toEqual(['c']);
  });

  it('maps per-key failures to StoreErrors naming the key', async () => {
    const { backend, store } = await seeded(['a', 'b']);
    const denied = errnoFailure('EACCES');
    backend.deleteFailures.push(
      new Map<string, unknown>([
        ['a', denied],
        ['b', new Error('odd')],
      ]),
    );
    const { errors } = await store.deleteMany(['a', 'b']);
    expect(errors).toEqual([
      { key: 'a', error: expect.objectContaining({ code: 'PermissionDenied', key: 'a', cause: denied }) },
      { key: 'b', error: expect.objectContaining({ code: 'Internal', key: 'b' }) },
    ]);
    expect(errors.every((e) => StoreError.is(e.error))).toBe(true);
  });

  it('reports the keys still failing when the budget runs out', async () => {
    const { backend, store } = await seeded(['a', 'b'], new ScriptedBackend(), { attempts: 2 });
    backend.deleteFailures.push(new Map([['a', unavailable()]]), new Map([['a', unavailable()]]), new Map());
    const { errors } = await store.deleteMany(['a', 'b']);
    expect(errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([['a', 'Unavailable']]);
    expect(backend.calls.deleteMany).toBe(2);
  });

  it('retries a batch call that throws; one that fails for good fails each of its keys', async () => {
    const { backend, store } = await seeded(['a', 'b']);
    backend.failNext('deleteMany', unavailable());
    expect(await store.deleteMany(['a', 'b'])).toEqual({ errors: [] });
    expect(backend.calls.deleteMany).toBe(2);

    await backend.seed('a', bytesOf(1));
    backend.failNext('deleteMany', storeError('PermissionDenied'));
    const { errors } = await store.deleteMany(['a', 'b']);
    expect(errors.map((e) => [e.key, (e.error as StoreError).code])).toEqual([
      ['a', 'PermissionDenied'],
      ['b', 'PermissionDenied'],
    ]);
    expect(await backend.keys()).toEqual(['a']);
  });

  it('rethrows Aborted rather than reporting it per key', async () => {
    const controller = new AbortController();
    const backend = new ScriptedBackend();
    const { store } = await seeded(['a', 'b'], backend, { sleep: async () => controller.abort() });
    backend.failNext('deleteMany', unavailable());
    await expect(store.deleteMany(['a', 'b'], { signal: controller.signal })).rejects.toMatchObject({
      code: 'Aborted',
    });
    expect(backend.calls.deleteMany).toBe(1);
  });
});
