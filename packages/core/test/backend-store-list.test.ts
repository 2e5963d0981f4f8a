// BackendStore.list: listings resumed after the last key, and the order it checks.
import { describe, expect, it } from 'vitest';
import type { ObjectMeta } from '../src/store.js';
import {
  bytesOf,
  listKeys,
  ScriptedBackend,
  scriptedStore,
  storeError,
  unavailable,
} from './layers/helpers.js';

async function seeded(keys: string[], retry = {}) {
  const setup = scriptedStore(retry);
  for (const key of keys) await setup.backend.seed(key, bytesOf(1));
  return setup;
}

describe('BackendStore.list', () => {
  it('retries a listing that fails before its first key', async () => {
    const { backend, store, events } = await seeded(['a', 'b', 'c']);
    backend.failList({ after: 0, error: unavailable() });
    expect(await listKeys(store.list())).toEqual({ keys: ['a', 'b', 'c'] });
    expect(backend.calls.list).toBe(2);
    expect(events.map((e) => [e.op, e.key])).toEqual([['list', '']]);
  });

  it('resumes a listing that fails midway after the last key it yielded, without repeats', async () => {
    const all = Array.from({ length: 10 }, (_, i) => `k${i}`);
    const { backend, store } = await seeded([...all, 'other'], { attempts: 2 });
    // three failures would exceed two attempts, but each follows progress
    backend.failList(
      { after: 3, error: unavailable() },
      { after: 2, error: unavailable() },
      { after: 4, error: unavailable() },
    );
    expect(await listKeys(store.list('k', { startAfter: 'k0' }))).toEqual({ keys: all.slice(1) });
    expect(backend.listOptions.map((o) => o.startAfter)).toEqual(['k0', 'k3', 'k5', 'k9']);
  });

  it('gives up a listing that fails repeatedly without progress', async () => {
    const { backend, store } = await seeded(['a', 'b'], { attempts: 3 });
    backend.failList(...[1, 0, 0, 0].map((after) => ({ after, error: unavailable() })));
    const { keys, error } = await listKeys(store.list());
    expect(keys).toEqual(['a']);
    expect(error).toMatchObject({ code: 'Unavailable' });
    expect(backend.calls.list).toBe(3);
  });

  it('rethrows a non-retryable listing error at once', async () => {
    const { backend, store } = await seeded(['a']);
    backend.failList({ after: 0, error: storeError('PermissionDenied') });
    expect((await listKeys(store.list())).error).toMatchObject({ code: 'PermissionDenied' });
    expect(backend.calls.list).toBe(1);
  });

  it('asks the backend for the normalised prefix', async () => {
    const { backend, store } = await seeded(['a/b', 'ab']);
    expect((await listKeys(store.list('/a//'))).keys).toEqual(['a/b']);
    expect((await listKeys(store.list('a'))).keys).toEqual(['a/b', 'ab']);
    expect(backend.calls.list).toBe(2);
  });

  const meta = (key: string): ObjectMeta => ({ key, size: 1, version: 'v', lastModified: new Date(0) });
  /** A backend whose listings yield `keys` whatever they are asked. */
  const listing = (keys: string[]) =>
    new (class extends ScriptedBackend {
      override async *list(): AsyncIterable<ObjectMeta> {
        this.calls.list += 1;
        for (const key of keys) yield meta(key);
      }
    })();

  it.each([
    ['out of order', ['a', 'c', 'b'], '', undefined, ['a', 'c']],
    ['twice', ['a', 'a'], '', undefined, ['a']],
    ['outside the prefix', ['p/a', 'q'], 'p/', undefined, ['p/a']],
    ['not after startAfter', ['b', 'c'], '', 'b', []],
  ])('fails with Internal when the backend lists a key %s', async (_what, keys, prefix, startAfter, seen) => {
    const backend = listing(keys);
    const { store } = scriptedStore({}, backend);
    const result = await listKeys(store.list(prefix, startAfter === undefined ? {} : { startAfter }));
    expect(result.keys).toEqual(seen);
    expect(result.error).toMatchObject({ code: 'Internal', operation: 'list' });
    expect(backend.calls.list).toBe(1);
  });

  it('compares keys by bytes, not by UTF-16 code units', async () => {
    // U+1F600 sorts before U+FF5E in UTF-16 code units, after it in UTF-8 bytes
    const keys = ['a\u{ff5e}', 'a\u{1f600}'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const { store } = scriptedStore({}, listing(keys));
    expect(await listKeys(store.list())).toEqual({ keys });
  });
});
