// Large objects through the chunked resumable upload, with small chunks: a ≥ 100 MiB object goes in
// and comes back byte-exact holding a few chunks at a time, and an upload aborted midway leaves no
// object (the key keeps its old bytes).
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BackendStore, StoreError } from '@ckpt/core';
import { type FakeGcs, startFakeGcs } from '@ckpt/test-servers';
import { type Bucket, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GcsBackend } from '../src/gcs-store.js';
import { sdkDownload } from './sdk-download.js';

const MiB = 1024 * 1024;
const CHUNK = 2 * MiB;
let server: FakeGcs;
let bucket: Bucket;

beforeAll(async () => {
  server = await startFakeGcs();
  bucket = new Storage({ apiEndpoint: server.endpoint, projectId: server.projectId }).bucket(
    await server.createBucket(),
  );
});
afterAll(async () => {
  await server?.stop();
});

function store(prefix: string) {
  const backend = new GcsBackend({
    bucket: bucket.name,
    apiEndpoint: server.endpoint,
    prefix,
    resumableThreshold: CHUNK,
    chunkSize: CHUNK,
  });
  return new BackendStore(backend, { retry: false });
}

/** `size` bytes, 1 MiB at a time, each MiB different; `onChunk` sees the bytes produced so far. */
async function* generated(size: number, onChunk?: (produced: number) => Promise<void> | void) {
  for (let produced = 0; produced < size; ) {
    const chunk = Buffer.alloc(Math.min(MiB, size - produced), produced / MiB);
    chunk.writeUInt32BE(produced / MiB);
    produced += chunk.length;
    yield chunk;
    await onChunk?.(produced);
  }
}

async function sha256(body: AsyncIterable<Uint8Array>): Promise<{ hex: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of body) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return { hex: hash.digest('hex'), bytes };
}

it('stores a 104 MiB stream through the resumable upload in 2 MiB chunks and reads it back, warning of nothing', async () => {
  const size = 104 * MiB + 12_345;
  const s = store('large');
  // the bytes held (buffers outside the JavaScript heap) once garbage is collected, every 8 MiB
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  let held = 0;
  const body = generated(size, (produced) => {
    if (produced % (8 * MiB) > 0) return;
    gc();
    held = Math.max(held, process.memoryUsage().arrayBuffers);
  });
  const put = await s.put('big/pages-1.img', body, { size });
  expect(put.size).toBe(size);
  // a chunk in flight, the next one read, the generator's piece: never a growing part of the object
  expect(held).toBeLessThan(24 * MiB);
  const expected = await sha256(generated(size));
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);
  process.on('warning', onWarning);
  const got = await s.get('big/pages-1.img');
  expect(await sha256(got.body)).toEqual(expected);
  process.off('warning', onWarning);
  // the SDK's layers hold a dozen listeners on the response body: no MaxListenersExceededWarning
  expect(warnings.map(String)).toEqual([]);
  // the plain SDK sees one whole object, with the version the put returned
  const [metadata] = await bucket.file('large/big/pages-1.img').getMetadata();
  expect(Number(metadata.size)).toBe(size);
  expect(String(metadata.generation)).toBe(put.version);
  await s.close();
}, 300_000);

it('an upload aborted midway leaves no object, or the old one', async () => {
  const s = store('aborted');
  await s.put('kept', Buffer.from('old bytes'));
  for (const key of ['fresh', 'kept']) {
    const controller = new AbortController();
    const put = s.put(
      key,
      Readable.from(
        generated(64 * MiB, async (produced) => {
          // several chunks are on the server by now: the resumable session is under way
          if (produced === 12 * MiB) controller.abort();
        }),
      ),
      { signal: controller.signal },
    );
    await expect(put).rejects.toSatisfy((error) => StoreError.is(error, 'Aborted'));
  }
  const [files] = await bucket.getFiles({ prefix: 'aborted/' });
  expect(files.map((file) => file.name)).toEqual(['aborted/kept']);
  const bytes = await sdkDownload(bucket.file('aborted/kept'));
  expect(bytes.toString()).toBe('old bytes');
  await s.close();
}, 120_000);
