import { describe, expect, it } from 'vitest';
import { BufferRecycler } from '../../src/sync/chunking/buffer-recycler.js';

describe('BufferRecycler', () => {
  it('keeps only buffers of its size, up to its limit, and drops them when idle', async () => {
    const recycler = new BufferRecycler(1024, 2, 50);
    recycler.give(new ArrayBuffer(512));
    const detached = new ArrayBuffer(1024);
    structuredClone(detached, { transfer: [detached] });
    recycler.give(detached);
    expect(recycler.take()).toBeUndefined();
    const [a, b, c] = [new ArrayBuffer(1024), new ArrayBuffer(1024), new ArrayBuffer(1024)];
    recycler.give(a);
    recycler.give(b);
    recycler.give(c);
    expect(recycler.take()).toBe(b);
    expect(recycler.take()).toBe(a);
    expect(recycler.take()).toBeUndefined();
    recycler.give(a);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(recycler.take()).toBeUndefined();
  });
});
