// Through a proxy that answers S3's 503 SlowDown beyond 3 requests in flight (MinIO throttles
// nothing): the store reads the answers as throttling, keeps fewer requests in flight, and a push
// and a pull asking for 16 at once complete byte-exact.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Checkpoints } from '@ckpt/core';
import { startThrottlingProxy, type ThrottlingProxy } from '@ckpt/test-servers';
import { makeCheckpoint, readTree, seededBytes, useMinio, useTempDir } from '@ckpt/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../src/index.js';

const minio = useMinio();
const tempDir = useTempDir('ckpt-s3-throttled-');
let proxy: ThrottlingProxy;

beforeAll(async () => {
  proxy = await startThrottlingProxy({ target: minio.server.port, maxInFlight: 3 });
});
afterAll(() => proxy?.close());

/** `run` on a store of its own through the proxy, as a `ckpt` command has: its limit starts afresh. */
async function throughProxy<T>(run: (checkpoints: Checkpoints) => Promise<T>): Promise<T> {
  const store = new S3Store({
    ...minio.server.storeOptions(),
    endpoint: proxy.endpoint,
    bucket: minio.bucket,
    retry: { attempts: 30, baseDelayMs: 5, maxDelayMs: 50 },
  });
  // a memory budget of 16 reads of the largest size: the pull asks for 16 at once too
  const checkpoints = new Checkpoints(store, {
    threads: 1,
    concurrency: 16,
    packSize: 256 << 10,
    memoryBudget: 16 * (8 << 20),
  });
  try {
    return await run(checkpoints);
  } finally {
    await checkpoints.close();
    await store.close();
  }
}

it('a push and a pull through S3 answering SlowDown above 3 requests in flight', async () => {
  const work = await tempDir();
  const source = await makeCheckpoint(join(work, 'source'), { pagesScale: 2 });
  const first = await throughProxy((c) => c.push('m', source));
  await writeFile(join(source, 'pages-2.img'), seededBytes(700 << 10, 99));
  // the second push HEADs every pack of the first, 32 at once: S3 answers those without a body
  const second = await throughProxy((c) => c.push('m', source));
  const pulled = await throughProxy((c) => c.pull('m', join(work, 'target')));
  expect(await readTree(join(work, 'target'))).toEqual(await readTree(source));
  const seen = proxy.stats();
  // every SlowDown the proxy gave, HEADs' included, was read as throttling
  const results = [first, second, pulled];
  expect(results.reduce((sum, r) => sum + r.throttled!, 0)).toBe(seen.throttled);
  for (const result of results) expect(result.throttled).toBeGreaterThan(0);
  expect(seen.peakInFlight).toBeLessThanOrEqual(3);
  // the limit each ended with is reported; how it settles is InFlightLimit's unit test (the retries'
  // jittered backoff spreads a throttled burst too, so a real server's run ends anywhere above it)
  for (const result of results) expect(result.inFlightLimit).toBeGreaterThanOrEqual(1);
}, 180_000);
