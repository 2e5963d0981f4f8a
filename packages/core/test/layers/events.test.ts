import type { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it, vi } from 'vitest';
import { BackendStore } from '../../src/backend-store.js';
import { readAll } from '../../src/body.js';
import { StoreError } from '../../src/errors.js';
import { type StoreEvent, withEvents } from '../../src/layers/events.js';
import { withFaults } from '../../src/layers/faults.js';
import { StoreMetrics } from '../../src/layers/metrics.js';
import { MemoryBackend, MemoryStore } from '../../src/memory-store.js';
import type { ObjectStore } from '../../src/store.js';
import { bytesOf, drain, ScriptedBackend, storeError, streamOf } from './helpers.js';

/** A store that never retries over a scripted backend. */
function scripted() {
  const backend = new ScriptedBackend();
  return { backend, store: new BackendStore(backend, { retry: false }) };
}

function setup(inner: ObjectStore = new MemoryStore()) {
  const events: StoreEvent[] = [];
  const metrics = new StoreMetrics();
  const store = withEvents(inner, (e) => {
    events.push(e);
    metrics.record(e);
  });
  return { events, metrics, store, inner };
}

describe('withEvents', () => {
  it('reports bytes sent by puts and received by gets, streams and ranges included', async () => {
    const { events, metrics, store } = setup();
    await store.put('a', bytesOf(1000));
    await store.put('b', streamOf(250_000, 16_384));
    await store.put('c', new Uint8Array(0));
    expect(events.map((e) => [e.op, e.key, e.bytes, e.error])).toEqual([
      ['put', 'a', 1000, undefined],
      ['put', 'b', 250_000, undefined],
      ['put', 'c', 0, undefined],
    ]);

    expect((await readAll((await store.get('b')).body)).length).toBe(250_000);
    expect((await readAll((await store.get('a', { range: { offset: 100, length: 300 } })).body)).length).toBe(
      300,
    );
    await readAll((await store.get('c')).body);
    expect(events.slice(3).map((e) => [e.op, e.key, e.bytes, e.error])).toEqual([
      ['get', 'b', 250_000, undefined],
      ['get', 'a', 300, undefined],
      ['get', 'c', 0, undefined],
    ]);
    const snapshot = metrics.snapshot();
    expect(snapshot.bytesOut).toBe(251_000);
    expect(snapshot.bytesIn).toBe(250_300);
    expect(snapshot.requests).toBe(6);
  });

  it('reports a get when its body ends, timing the whole download', async () => {
    const { events, store } = setup();
    await store.put('a', bytesOf(10));
    const result = await store.get('a');
    await delay(30);
    expect(events.filter((e) => e.op === 'get')).toEqual([]);
    expect(await readAll(result.body)).toEqual(bytesOf(10));
    await delay(1);
    const get = events.find((e) => e.op === 'get');
    expect(get).toMatchObject({ bytes: 10 });
    expect(get?.durationMs).toBeGreaterThanOrEqual(25);
  });

  it('reports a body destroyed early as Aborted and a truncated body with its error code', async () => {
    const memory = new MemoryBackend();
    await memory.put('big', bytesOf(300_000), { mode: 'overwrite' });
    const faulty = withFaults(memory, { seed: 3, truncateRate: 1, ops: ['get'] });
    const { events, store } = setup(new BackendStore(faulty, { retry: false }));

    const cut = await drain((await store.get('big')).body);
    expect(StoreError.is(cut.error, 'Unavailable')).toBe(true);
    await delay(1);
    const failed = events.at(-1);
    expect(failed).toMatchObject({ op: 'get', key: 'big', error: 'Unavailable' });
    expect(failed?.bytes).toBeGreaterThanOrEqual(cut.bytes);
    expect(failed?.bytes).toBeLessThan(300_000);

    const plain = setup(new BackendStore(memory));
    const result = await plain.store.get('big');
    result.body.destroy();
    await delay(1);
    expect(plain.events).toEqual([expect.objectContaining({ op: 'get', error: 'Aborted', bytes: 0 })]);
  });

  it('forwards destroy() to the backend body', async () => {
    const { backend, store: inner } = scripted();
    await backend.seed('a', bytesOf(10));
    const bodies: Readable[] = [];
    const get = backend.get.bind(backend);
    backend.get = async (key, options) => {
      const result = await get(key, options);
      bodies.push(result.body);
      return result;
    };
    const { store } = setup(inner);
    (await store.get('a')).body.destroy();
    await delay(1);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]?.destroyed).toBe(true);
  });

  it('reports failed requests with their error code', async () => {
    const { backend, store: inner } = scripted();
    const { events, metrics, store } = setup(inner);
    await expect(store.head('missing')).rejects.toMatchObject({ code: 'NotFound' });
    await expect(store.get('missing')).rejects.toMatchObject({ code: 'NotFound' });
    backend.failNext('put', storeError('PermissionDenied'));
    await expect(store.put('a', bytesOf(5))).rejects.toMatchObject({ code: 'PermissionDenied' });
    backend.failNext('delete', new Error('not a StoreError'));
    await expect(store.delete('a')).rejects.toThrow('not a StoreError');
    backend.failNext('head', storeError('Unavailable'));
    await expect(store.head('a')).rejects.toMatchObject({ code: 'Unavailable' });
    expect(events.map((e) => [e.op, e.bytes, e.error])).toEqual([
      ['head', 0, 'NotFound'],
      ['get', 0, 'NotFound'],
      ['put', 0, 'PermissionDenied'],
      ['delete', 0, 'Internal'],
      ['head', 0, 'Unavailable'],
    ]);
    expect(metrics.snapshot().errorsByCode).toEqual({
      NotFound: 2,
      PermissionDenied: 1,
      Internal: 1,
      Unavailable: 1,
    });
  });

  it('reports listings with the number of objects, also when left early', async () => {
    const { events, store } = setup();
    for (const k of ['p/a', 'p/b', 'p/c', 'q']) await store.put(k, bytesOf(1));
    events.length = 0;
    const keys: string[] = [];
    for await (const meta of store.list('p/')) keys.push(meta.key);
    for await (const _ of store.list('p/')) break;
    expect(keys).toEqual(['p/a', 'p/b', 'p/c']);
    expect(events.map((e) => [e.op, e.key, e.count, e.error])).toEqual([
      ['list', 'p/', 3, undefined],
      ['list', 'p/', 1, undefined],
    ]);
  });

  it('reports deleteMany with its key count and first per-key failure', async () => {
    const { backend, store: inner } = scripted();
    const { events, store } = setup(inner);
    backend.deleteFailures.push(new Map([['b', storeError('PermissionDenied')]]));
    const result = await store.deleteMany(['a', 'b', 'c']);
    expect(result.errors.map((e) => e.key)).toEqual(['b']);
    expect(events).toEqual([
      expect.objectContaining({ op: 'deleteMany', key: 'a', count: 3, error: 'PermissionDenied' }),
    ]);
  });

  it('keeps serving requests when the listener throws', async () => {
    const store = withEvents(new MemoryStore(), () => {
      throw new Error('listener bug');
    });
    // captured, not printed: a listener on 'warning' would leave Node's own printing in the test output
    const emitWarning = vi.spyOn(process, 'emitWarning').mockImplementation(() => {});
    let warnings: string[];
    try {
      await store.put('a', bytesOf(3));
      expect(await readAll((await store.get('a')).body)).toEqual(bytesOf(3));
      warnings = emitWarning.mock.calls.map(([warning]) => String(warning));
    } finally {
      emitWarning.mockRestore();
    }
    expect(warnings.some((w) => w.includes('listener bug'))).toBe(true);
  });

  it('passes name and capabilities through', () => {
    const memory = new MemoryStore('memory://x');
    const store = withEvents(memory, () => {});
    expect(store.name).toBe('memory://x');
    expect(store.capabilities).toBe(memory.capabilities);
  });
});
