// A push and a pull through a store whose service throttles above 3 requests in flight, while the
// engine asks for 16: both complete byte-exact, and their results say what the store met.
// Imports the BUILT package: the chunker runs in worker threads.
import path from 'node:path';
import { makeCheckpoint, readTree, useTempDir } from '@ckpt/test-utils';
import { expect, it } from 'vitest';
import { MemoryBackend, withFaults } from '../../dist/exports/testing.js';
import { BackendStore, Checkpoints } from '../../dist/index.js';
import { SMALL_CHUNKING } from './small-chunking.js';

const tempDir = useTempDir('ckpt-throttled-');

it('push and pull complete exact through a service that throttles above 3 requests in flight', async () => {
  const work = await tempDir();
  const faulty = withFaults(new MemoryBackend(), { seed: 3, throttleAbove: 3, delayMs: [1, 4] });
  const store = new BackendStore(faulty, { retry: { attempts: 30, baseDelayMs: 1, maxDelayMs: 8 } });
  const ckpt = new Checkpoints(store, { chunking: SMALL_CHUNKING, packSize: 64 << 10, concurrency: 16 });
  try {
    const src = await makeCheckpoint(path.join(work, 'src'));
    const pushed = await ckpt.push('m', src);
    const pulled = await ckpt.pull('m', path.join(work, 'dst'));
    expect(await readTree(path.join(work, 'dst'))).toEqual(await readTree(src));
    expect(pushed.throttled! + pulled.throttled!).toBe(faulty.injected.throttled);
    expect(pulled.throttled).toBeGreaterThan(0);
    for (const result of [pushed, pulled]) {
      expect(result.inFlightLimit).toBeGreaterThanOrEqual(1);
      expect(result.inFlightLimit).toBeLessThanOrEqual(4);
    }
  } finally {
    await ckpt.close();
  }
}, 120_000);
