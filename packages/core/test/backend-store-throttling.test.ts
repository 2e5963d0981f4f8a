// BackendStore under a service that throttles: every request holds a slot of the store's
// InFlightLimit, which throttling answers lower and successes raise again.
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import type { Backend } from '../src/backend.js';
import { BackendStore } from '../src/backend-store.js';
import { readAll } from '../src/body.js';
import { StoreError } from '../src/errors.js';
import { withFaults } from '../src/layers/faults.js';
import { MemoryBackend } from '../src/memory-store.js';
import { bytesOf } from './layers/helpers.js';

/** Fast retries, many of them: throttling must be survived, not reported. */
const retry = { attempts: 30, baseDelayMs: 1, maxDelayMs: 4 };

/** A memory backend that answers throttling above `n` requests in flight, each taking 1–3 ms. */
function throttlingAbove(n: number) {
  return withFaults(new MemoryBackend(), { seed: 5, throttleAbove: n, delayMs: [1, 3] });
}

describe('BackendStore under throttling', () => {
  it('runs 16 callers against a service that takes 4: the limit settles near 4, every byte arrives', async () => {
    const faulty = throttlingAbove(4);
    const store = new BackendStore(faulty, { retry });
    const callers = pLimit(16);
    const n = 300;
    await Promise.all(
      Array.from({ length: n }, (_, i) => callers(() => store.put(`k${i}`, bytesOf(1000 + i)))),
    );
    const bodies = await Promise.all(
      Array.from({ length: n }, (_, i) => callers(async () => readAll((await store.get(`k${i}`)).body))),
    );
    expect(bodies.every((body, i) => body.equals(bytesOf(1000 + i)))).toBe(true);
    const { throttled, inFlightLimit } = store.stats();
    expect(throttled).toBe(faulty.injected.throttled);
    expect(throttled).toBeGreaterThan(0);
    // AIMD around the service's 4: halved to 2 when 5 were let in, grown back one at a time
    expect(inFlightLimit).toBeGreaterThanOrEqual(2);
    expect(inFlightLimit).toBeLessThanOrEqual(5);
    // once the limit has come down, few requests meet throttling: about one per round of growth
    expect(throttled).toBeLessThan((2 * n) / 4);
  });

  it('holds a get’s slot until its body closes: with one slot, the next get waits for the body', async () => {
    const store = new BackendStore(new MemoryBackend(), { maxInFlight: 1 });
    await store.put('a', bytesOf(10));
    await store.put('b', bytesOf(20));
    const first = await store.get('a');
    let second = false;
    const next = store.get('b').then((got) => {
      second = true;
      return got;
    });
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(second).toBe(false);
    expect(await readAll(first.body)).toEqual(bytesOf(10));
    expect(await readAll((await next).body)).toEqual(bytesOf(20));
    // a body destroyed unread gives its slot back too
    (await store.get('a')).body.destroy();
    await expect(store.head('a')).resolves.toMatchObject({ size: 10 });
  });

  it('takes a slot per step of a listing: the caller may use the store between keys', async () => {
    const store = new BackendStore(new MemoryBackend(), { maxInFlight: 1 });
    for (const key of ['a', 'b', 'c']) await store.put(key, bytesOf(3));
    const sizes: number[] = [];
    for await (const meta of store.list('')) sizes.push((await store.head(meta.key)).size);
    expect(sizes).toEqual([3, 3, 3]);
  });

  it('ends a wait for a slot with Aborted when the caller gives up', async () => {
    const store = new BackendStore(new MemoryBackend(), { maxInFlight: 1 });
    await store.put('a', bytesOf(5));
    const held = await store.get('a');
    const controller = new AbortController();
    const waiting = store.head('a', { signal: controller.signal });
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'Aborted' });
    held.body.destroy();
  });

  it('reads throttling from the backend’s own error mapping, and counts it once per answer', async () => {
    let answers = 0;
    const memory = new MemoryBackend();
    const backend: Backend = {
      name: 'busy://',
      capabilities: memory.capabilities,
      put: (key, body, options) => memory.put(key, body, options),
      get: (key, options) => memory.get(key, options),
      list: (prefix, options) => memory.list(prefix, options),
      delete: (key) => memory.delete(key),
      head: async (key) => {
        if (answers++ < 3) throw Object.assign(new Error('busy'), { status: 429 });
        return memory.head(key);
      },
      toStoreError: (error) =>
        (error as { status?: number }).status === 429
          ? new StoreError('Unavailable', 'busy', { throttled: true })
          : undefined,
    };
    const store = new BackendStore(backend, { retry });
    await store.put('a', bytesOf(1));
    await expect(store.head('a')).resolves.toMatchObject({ size: 1 });
    expect(store.stats()).toEqual({ throttled: 3, inFlightLimit: 1 });
  });
});
