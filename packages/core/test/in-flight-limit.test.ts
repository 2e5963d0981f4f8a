// InFlightLimit: additive increase, multiplicative decrease of the requests a store runs at once.
import { describe, expect, it } from 'vitest';
import { InFlightLimit, type Slot } from '../src/in-flight-limit.js';

/** Acquires `n` slots (each must be granted at once). */
async function take(limit: InFlightLimit, n: number): Promise<Slot[]> {
  return Promise.all(Array.from({ length: n }, () => limit.acquire()));
}

/** Whether `promise` has settled after the pending callbacks ran. */
async function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  void promise.then(
    () => {
      done = true;
    },
    () => {
      done = true;
    },
  );
  await new Promise((resolve) => setImmediate(resolve));
  return done;
}

describe('InFlightLimit', () => {
  it('lets every request in until the first throttling answer, reporting the most in flight', async () => {
    const limit = new InFlightLimit();
    const slots = await take(limit, 40);
    expect(limit.limit).toBe(40);
    for (const slot of slots) limit.release(slot, 'ok');
    expect(limit).toMatchObject({ limit: 40, throttled: 0 });
  });

  it('halves once for the requests in flight when it was lowered, never below 1', async () => {
    const limit = new InFlightLimit();
    const slots = await take(limit, 16);
    // all 16 answered with throttling: one halving (to 8), the other 15 answers only counted
    for (const slot of slots) limit.release(slot, 'throttled');
    expect(limit).toMatchObject({ limit: 8, throttled: 16 });
    for (const expected of [4, 2, 1, 1]) {
      const [throttled, ...others] = await take(limit, limit.limit);
      limit.release(throttled!, 'throttled');
      for (const slot of others) limit.release(slot, 'other');
      expect(limit.limit).toBe(expected);
    }
    expect(limit.throttled).toBe(20);
  });

  it('halves the requests really in flight when the callers ran fewer than the limit', async () => {
    const limit = new InFlightLimit(32);
    const slots = await take(limit, 6);
    limit.release(slots[0]!, 'throttled');
    expect(limit.limit).toBe(3);
  });

  it('makes requests wait beyond the limit and serves them first come, first served', async () => {
    const limit = new InFlightLimit(2);
    const [a, b] = await take(limit, 2);
    const order: number[] = [];
    const waiting = [1, 2, 3].map((n) =>
      limit.acquire().then((slot) => {
        order.push(n);
        return slot;
      }),
    );
    expect(await settled(waiting[0]!)).toBe(false);
    limit.release(a!, 'other');
    limit.release(a!, 'other'); // a second release of the same slot changes nothing
    expect(await settled(waiting[0]!)).toBe(true);
    expect(await settled(waiting[1]!)).toBe(false);
    limit.release(b!, 'ok');
    limit.release(await waiting[0]!, 'ok');
    await Promise.all(waiting);
    expect(order).toEqual([1, 2, 3]);
  });

  it('grows by one after `limit` successes, up to the most the callers ran at once', async () => {
    const limit = new InFlightLimit();
    const first = await take(limit, 8);
    limit.release(first[0]!, 'throttled'); // 8 in flight → 4
    for (const slot of first.slice(1)) limit.release(slot, 'other');
    const grown: number[] = [];
    for (let i = 0; i < 60; i++) {
      const [slot] = await take(limit, 1);
      limit.release(slot!, 'ok');
      grown.push(limit.limit);
    }
    expect(grown.at(-1)).toBe(8);
    // 4 successes to reach 5, 5 more to reach 6, …: additive, one step per window
    expect(grown.indexOf(5)).toBe(3);
    expect(grown.indexOf(6) - grown.indexOf(5)).toBe(5);
    expect(grown.indexOf(7) - grown.indexOf(6)).toBe(6);
  });

  it('grows back to a configured ceiling, and an answer that is neither success nor throttling changes nothing', async () => {
    const limit = new InFlightLimit(3);
    const [a] = await take(limit, 1);
    limit.release(a!, 'throttled');
    expect(limit.limit).toBe(1);
    for (let i = 0; i < 10; i++) {
      const [slot] = await take(limit, 1);
      limit.release(slot!, 'other');
    }
    expect(limit.limit).toBe(1);
    for (let i = 0; i < 20; i++) {
      const [slot] = await take(limit, 1);
      limit.release(slot!, 'ok');
    }
    expect(limit.limit).toBe(3);
  });

  it('counts a throttling answer to a request that keeps its slot (a resumed read)', async () => {
    const limit = new InFlightLimit();
    const slots = await take(limit, 4);
    limit.answeredThrottled(slots[0]!);
    expect(limit).toMatchObject({ limit: 2, throttled: 1 });
    for (const slot of slots) limit.release(slot, 'other');
    const next = await take(limit, 2);
    expect(await settled(limit.acquire())).toBe(false);
    for (const slot of next) limit.release(slot, 'other');
  });

  it('an abort ends a wait with Aborted and takes it out of the queue', async () => {
    const limit = new InFlightLimit(1);
    const [held] = await take(limit, 1);
    const controller = new AbortController();
    const aborted = limit.acquire(controller.signal, 'get', 'k');
    const after = limit.acquire();
    controller.abort();
    await expect(aborted).rejects.toMatchObject({
      code: 'Aborted',
      message: 'get k: the operation was aborted',
    });
    limit.release(held!, 'ok');
    expect(await settled(after)).toBe(true);
  });

  it('refuses a maximum that is not a positive integer', () => {
    for (const bad of [0, -1, 1.5, Number.NaN])
      expect(() => new InFlightLimit(bad)).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});
