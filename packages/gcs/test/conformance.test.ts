import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BackendStore } from '@ckpt/core';
import { type FakeGcs, startFakeGcs } from '@ckpt/test-servers';
import { runConformance } from '@ckpt/testkit';
import { type Bucket, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { GcsBackend } from '../src/gcs-store.js';
import { gcsRawReader } from './raw-reader.js';

// fake-gcs-server keeps to GCS's documented behaviour wherever the suite looks: every group
// runs and no test is left out.
let server: FakeGcs;
let bucket: Bucket;

const CHUNK = 1024 * 1024;

beforeAll(async () => {
  server = await startFakeGcs();
  const storage = new Storage({ apiEndpoint: server.endpoint, projectId: server.projectId });
  bucket = storage.bucket(await server.createBucket());
  // The first resumable uploads of a process load and compile the SDK's upload path and grow
  // V8's heap (some 30-40 MiB, whatever the object's size; later uploads of any size add 15-25
  // MiB): the streaming group's memory check would count that as the object's. One 16 MiB upload
  // first, under another prefix, so the check measures what an upload holds.
  const warm = new BackendStore(
    new GcsBackend({
      bucket: bucket.name,
      apiEndpoint: server.endpoint,
      prefix: 'warm-up',
      resumableThreshold: CHUNK,
      chunkSize: CHUNK,
    }),
  );
  await warm.put('x', Readable.from(Array.from({ length: 16 }, () => Buffer.alloc(CHUNK))));
  await warm.delete('x');
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
