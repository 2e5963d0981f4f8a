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

it('a push and a pull through S3 answering SlowDown above 3 requests in flight', async () => {
  const store = new S3Store({
    ...minio.server.storeOptions(),
    endpoint: proxy.endpoint,
    bucket: minio.bucket,
    retry: { attempts: 30, baseDelayMs: 5, maxDelayMs: 50 },
  });
  const checkpoints = new Checkpoints(store, { threads: 1, concurrency: 16, packSize: 256 << 10 });
  const work = await tempDir();
  const source = await makeCheckpoint(join(work, 'source'), { pagesScale: 2 });
  try {
    const first = await checkpoints.push('m', source);
    await writeFile(join(source, 'pages-2.img'), seededBytes(700 << 10, 99));
    // the second push HEADs every pack of the first, 32 at a time: S3 answers those without a body
    const second = await checkpoints.push('m', source);
    const pulled = await checkpoints.pull('m', join(work, 'target'));
    expect(await readTree(join(work, 'target'))).toEqual(await readTree(source));
    const seen = proxy.stats();
    // every SlowDown the proxy gave, HEADs' included, was read as throttling
    const results = [first, second, pulled];
    expect(results.reduce((sum, r) => sum + r.throttled!, 0)).toBe(seen.throttled);
    expect(second.throttled).toBeGreaterThan(0);
    expect(pulled.throttled).toBeGreaterThan(0);
    expect(seen.peakInFlight).toBeLessThanOrEqual(3);
    // AIMD: from about half what the service takes to a little above it (grown a step or two by the
    // last requests, which meet no contention), far below the 16 asked for
    for (const result of results) expect(result.inFlightLimit).toBeLessThanOrEqual(8);
  } finally {
    await checkpoints.close();
    await store.close();
  }
}, 180_000);
