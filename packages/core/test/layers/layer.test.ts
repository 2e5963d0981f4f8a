import { describe, expect, it } from 'vitest';
import { BackendStore } from '../../src/backend-store.js';
import { readAll } from '../../src/body.js';
import { StoreError } from '../../src/errors.js';
import { withEvents } from '../../src/layers/events.js';
import { withFaults } from '../../src/layers/faults.js';
import { StoreLayer } from '../../src/layers/layer.js';
import { StoreMetrics } from '../../src/layers/metrics.js';
import { MemoryBackend, MemoryStore } from '../../src/memory-store.js';
import type { PutResult } from '../../src/store.js';
import { bytesOf, recordingSleep } from './helpers.js';

async function exercise(store: import('../../src/store.js').ObjectStore) {
  await store.put('d/a', bytesOf(10), { metadata: { kind: 'x' } });
  await store.put('d/b', bytesOf(20));
  await expect(store.put('d/a', bytesOf(1), { mode: 'create' })).rejects.toMatchObject({
    code: 'AlreadyExists',
  });
  const got = await store.get('d/b', { range: { offset: 5, length: 5 } });
  expect(got.range).toEqual({ offset: 5, length: 5 });
  expect(await readAll(got.body)).toEqual(bytesOf(20).subarray(5, 10));
  expect(await store.head('d/a')).toMatchObject({ size: 10, metadata: { kind: 'x' } });
  const keys: string[] = [];
  for await (const meta of store.list('d/')) keys.push(meta.key);
  expect(keys).toEqual(['d/a', 'd/b']);
  await store.delete('d/a');
  expect(await store.deleteMany(['d/b', 'd/none'])).toEqual({ errors: [] });
  await expect(store.head('d/b')).rejects.toMatchObject({ code: 'NotFound' });
}

describe('StoreLayer', () => {
  it('forwards every call, name and capabilities to the inner store', async () => {
    const memory = new MemoryStore('memory://layer');
    const layer = new StoreLayer(memory);
    expect(layer.name).toBe('memory://layer');
    expect(layer.capabilities).toBe(memory.capabilities);
    await exercise(layer);
    let closed = false;
    memory.close = async () => {
      closed = true;
    };
    await layer.close();
    expect(closed).toBe(true);
  });

  it('lets a subclass override one method', async () => {
    class ReadOnly extends StoreLayer {
      override async put(key: string): Promise<PutResult> {
        throw new StoreError('PermissionDenied', 'read-only view', { operation: 'put', key });
      }
    }
    const memory = new MemoryStore();
    await memory.put('a', bytesOf(3));
    const view = new ReadOnly(memory);
    await expect(view.put('b')).rejects.toMatchObject({
      code: 'PermissionDenied',
      message: 'put b: read-only view',
    });
    expect(await readAll((await view.get('a')).body)).toEqual(bytesOf(3));
  });

  it('composes: events over a store over a faulty backend keep the store contract', async () => {
    const metrics = new StoreMetrics();
    const faulty = withFaults(new MemoryBackend(), { seed: 8, errorRate: 0.3, truncateRate: 0.3 });
    const store = new BackendStore(faulty, { retry: { attempts: 20, sleep: recordingSleep().sleep } });
    const stack = withEvents(store, metrics.listener);
    await exercise(stack);
    expect(stack.capabilities).toBe(store.capabilities);
    expect(faulty.injected.errors).toBeGreaterThan(0);
    // the retries happen under the events: each request is one event, its faults unseen
    const snapshot = metrics.snapshot();
    expect(snapshot.requests).toBe(9);
    expect(snapshot.bytesOut).toBe(30);
    expect(snapshot.bytesIn).toBe(5);
    expect(snapshot.errorsByCode).toEqual({ AlreadyExists: 1, NotFound: 1 });
  });
});
