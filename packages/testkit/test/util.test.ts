import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { digestStream } from '../src/util/digest.js';
import { forEachLimit } from '../src/util/limit.js';
import { patternBytes, patternStream } from '../src/util/pattern.js';
import { memoryLimit, RssSampler } from '../src/util/rss-sampler.js';

const MiB = 1024 * 1024;

describe('pattern bytes', () => {
  it('are deterministic per seed and differ between seeds', () => {
    expect(patternBytes(1000, 1).equals(patternBytes(1000, 1))).toBe(true);
    expect(patternBytes(1000, 1).equals(patternBytes(1000, 2))).toBe(false);
    expect(patternBytes(1001, 1).subarray(0, 1000).equals(patternBytes(1000, 1))).toBe(true);
  });

  it('stream the same bytes as patternBytes, chunk by chunk', async () => {
    const size = 3 * 256 * 1024 + 13;
    const chunks: Buffer[] = [];
    for await (const chunk of patternStream(size, 7)) chunks.push(chunk);
    expect(chunks.length).toBe(4);
    expect(Buffer.concat(chunks).equals(patternBytes(size, 7))).toBe(true);
  });

  it('do not repeat or compress: no two 4 KiB pages of 8 MiB are equal', () => {
    const bytes = patternBytes(8 * MiB, 3);
    const pages = new Set<string>();
    for (let at = 0; at < bytes.length; at += 4096)
      pages.add(bytes.subarray(at, at + 4096).toString('base64'));
    expect(pages.size).toBe(2048);
  });
});

describe('digestStream', () => {
  it('hashes a stream like a one-shot sha256 and counts its bytes', async () => {
    const bytes = patternBytes(600_000, 5);
    const seen: number[] = [];
    const result = await digestStream(patternStream(bytes.length, 5), (n) => seen.push(n));
    expect(result).toEqual({ sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length });
    expect(seen.reduce((a, b) => a + b, 0)).toBe(bytes.length);
  });
});

describe('forEachLimit', () => {
  it('never runs more than the limit at once and visits every item', async () => {
    let running = 0;
    let peak = 0;
    const seen: number[] = [];
    await forEachLimit([...Array(50).keys()], 4, async (i) => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setTimeout(resolve, 1));
      seen.push(i);
      running--;
    });
    expect(peak).toBe(4);
    expect(seen.sort((a, b) => a - b)).toEqual([...Array(50).keys()]);
  });

  it('rejects with the first error after the calls in flight settle', async () => {
    let started = 0;
    const run = forEachLimit([...Array(20).keys()], 2, async (i) => {
      started++;
      if (i === 3) throw new Error('boom');
    });
    await expect(run).rejects.toThrow('boom');
    expect(started).toBeLessThan(20);
  });
});

describe('RssSampler', () => {
  it('sees memory that is held, not chunks that are passed on', async () => {
    const held: Buffer[] = [];
    const holding = RssSampler.start();
    for await (const chunk of patternStream(96 * MiB, 9, { onChunk: (n) => holding.progress(n) }))
      held.push(chunk);
    const heldGrowth = holding.stop();
    expect(held.length).toBeGreaterThan(0);
    held.length = 0;

    const streaming = RssSampler.start();
    await digestStream(patternStream(96 * MiB, 9, { onChunk: (n) => streaming.progress(n) }));
    const streamingGrowth = streaming.stop();

    const limit = memoryLimit(96 * MiB, streaming.collectsGarbage);
    expect(streaming.collectsGarbage).toBe(true);
    expect(heldGrowth).toBeGreaterThan(limit);
    expect(streamingGrowth).toBeLessThan(limit);
  });
});
