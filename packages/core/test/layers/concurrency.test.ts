import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { withConcurrency } from '../../src/layers/concurrency.js';
import { MemoryStore } from '../../src/memory-store.js';
import type { GetResult } from '../../src/store.js';
import { bytesOf, drain, GaugedStore, readBody, ScriptedStore, storeError } from './helpers.js';

/** Lets queued promise callbacks and a few timers run. */
const settle = () => delay(15);

describe('withConcurrency', () => {
  it('never runs more than `limit` requests at once', async () => {
    const inner = new GaugedStore();
    const store = withConcurrency(inner, 3);
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.put(`k${i}`, bytesOf(100))));
    const work = Array.from({ length: 40 }, async (_, i) => {
      const key = `k${i % 12}`;
      if (i % 4 === 0) return store.head(key);
      if (i % 4 === 1) return readBody((await store.get(key)).body);
      if (i % 4 === 2) return store.put(key, bytesOf(50));
      return store.delete(`gone${i}`);
    });
    await Promise.all(work);
    expect(inner.started).toBe(52);
    expect(inner.maxInFlight).toBe(3);
    await settle(); // the last body's slot is released just after its end event
    expect(store.activeCount).toBe(0);
    expect(store.pendingCount).toBe(0);
  });

  it('holds the slot of a get until its body is consumed', async () => {
    const inner = new GaugedStore();
    const store = withConcurrency(inner, 1);
    await store.put('a', bytesOf(10));
    const first = await store.get('a');
    const head = store.head('a');
    await settle();
    expect(inner.started).toBe(2); // put, get: the head waits
    expect(store.pendingCount).toBe(1);
    expect(await readBody(first.body)).toEqual(bytesOf(10));
    await expect(head).resolves.toMatchObject({ key: 'a', size: 10 });
  });

  it('releases the slot of a get whose body is destroyed or fails', async () => {
    const inner = new GaugedStore();
    const store = withConcurrency(inner, 1);
    await store.put('a', bytesOf(10));

    const destroyed = await store.get('a');
    destroyed.body.destroy();
    await expect(store.head('a')).resolves.toMatchObject({ size: 10 });

    const failing = await store.get('a');
    failing.body.destroy(new StoreError('Unavailable', 'reset'));
    expect((await drain(failing.body)).error).toBeDefined();
    await expect(store.head('a')).resolves.toMatchObject({ size: 10 });
    expect(store.activeCount).toBe(0);
  });

  it('releases the slot when a request fails', async () => {
    const inner = new ScriptedStore();
    const store = withConcurrency(inner, 1);
    await expect(store.get('missing')).rejects.toMatchObject({ code: 'NotFound' });
    inner.failNext('put', storeError('PermissionDenied'));
    await expect(store.put('a', bytesOf(1))).rejects.toMatchObject({ code: 'PermissionDenied' });
    await expect(store.put('a', bytesOf(1))).resolves.toMatchObject({ size: 1 });
    expect(store.activeCount).toBe(0);
  });

  it('rejects a waiting request with Aborted as soon as its signal fires, without running it', async () => {
    const inner = new ScriptedStore();
    const store = withConcurrency(inner, 1);
    await store.put('a', bytesOf(10));
    const held = await store.get('a');
    const controller = new AbortController();
    const waiting = store.head('a', { signal: controller.signal });
    await settle();
    controller.abort();
    await expect(waiting).rejects.toSatisfy(
      (e) => StoreError.is(e, 'Aborted') && e.message.includes('head a'),
    );
    held.body.destroy();
    await settle();
    expect(inner.calls.head).toBe(0);
    expect(store.activeCount + store.pendingCount).toBe(0);

    await expect(store.head('a', { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'Aborted' });
    expect(inner.calls.head).toBe(0);
  });

  it('takes a slot for the start of a listing only, and closes the inner listing on early exit', async () => {
    const memory = new MemoryStore();
    for (const k of ['a', 'b', 'c']) await memory.put(k, bytesOf(1));
    const store = withConcurrency(memory, 1);
    const held = await store.get('a');
    const keys: string[] = [];
    const listing = (async () => {
      for await (const meta of store.list()) keys.push(meta.key);
    })();
    await settle();
    expect(keys).toEqual([]);
    await readBody(held.body);
    await listing;
    expect(keys).toEqual(['a', 'b', 'c']);

    let closed = false;
    const inner = new ScriptedStore(memory);
    inner.list = async function* () {
      try {
        yield* memory.list();
      } finally {
        closed = true;
      }
    };
    for await (const meta of withConcurrency(inner, 1).list()) {
      expect(meta.key).toBe('a');
      break;
    }
    expect(closed).toBe(true);
  });

  it('counts a whole deleteMany as one request', async () => {
    const memory = new MemoryStore();
    for (const k of ['a', 'b', 'c']) await memory.put(k, bytesOf(1));
    const store = withConcurrency(memory, 1);
    const held = await store.get('a');
    const deleting = store.deleteMany(['a', 'b', 'c']);
    await settle();
    expect(store.pendingCount).toBe(1);
    held.body.destroy();
    expect(await deleting).toEqual({ errors: [] });
    await settle();
    expect(store.activeCount + store.pendingCount).toBe(0);
  });

  it('caps preferredConcurrency at the limit and keeps the other capabilities', () => {
    const memory = new MemoryStore();
    expect(withConcurrency(memory, 3).capabilities).toEqual({
      ...memory.capabilities,
      preferredConcurrency: 3,
    });
    expect(withConcurrency(memory, 64).capabilities.preferredConcurrency).toBe(8);
    expect(withConcurrency(memory, 3).name).toBe(memory.name);
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects a limit of %s', (limit) => {
    expect(() => withConcurrency(new MemoryStore(), limit)).toThrow(
      expect.objectContaining({
        code: 'InvalidArgument',
        message: expect.stringContaining('withConcurrency limit'),
      }),
    );
  });

  it('does not deadlock a test that forgets a body when the test destroys what it opened', async () => {
    // the documented rule: consume or destroy every body. Here every body is destroyed in `finally`.
    const store = withConcurrency(new MemoryStore(), 2);
    await store.put('a', bytesOf(10));
    const opened: GetResult[] = [];
    try {
      opened.push(await store.get('a'), await store.get('a'));
      expect(store.activeCount).toBe(2);
    } finally {
      for (const r of opened) r.body.destroy();
    }
    await expect(store.head('a')).resolves.toMatchObject({ size: 10 });
  });
});
