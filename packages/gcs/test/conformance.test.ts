import { randomUUID } from 'node:crypto';
import { type FakeGcs, startFakeGcs } from '@ckpt/test-servers';
import { runConformance } from '@ckpt/testkit';
import { type Bucket, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { GcsBackend } from '../src/gcs-store.js';
import { gcsRawReader } from './raw-reader.js';

// fake-gcs-server keeps to GCS's documented behaviour wherever the suite looks: every group
// runs and no test is left out.
//
// No warm-up upload before the streaming group's memory check: a put holds two chunks whatever
// the object's size. The first large upload in a process also grows its resident memory once
// (V8's young generation reaching its full size, fetch's first use), by the same amount for any
// object size and never again; the check's allowance covers that (docs/benchmarks.md).
let server: FakeGcs;
let bucket: Bucket;

const CHUNK = 1024 * 1024;

beforeAll(async () => {
  server = await startFakeGcs();
  const storage = new Storage({ apiEndpoint: server.endpoint, projectId: server.projectId });
  bucket = storage.bucket(await server.createBucket());
});
afterAll(async () => {
  await server?.stop();
});

runConformance(
  { describe, it },
  {
    name: 'GcsBackend (fake-gcs-server)',
    async create() {
      const prefix = `conformance/${randomUUID()}`;
      // small chunks and pages: the streaming group goes resumable, every listing pages
      const backend = new GcsBackend({
        bucket: bucket.name,
        apiEndpoint: server.endpoint,
        projectId: server.projectId,
        prefix,
        resumableThreshold: CHUNK,
        chunkSize: CHUNK,
        listPageSize: 100,
      });
      return { backend, raw: gcsRawReader(bucket, prefix) };
    },
  },
);
