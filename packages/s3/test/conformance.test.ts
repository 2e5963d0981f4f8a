import { randomUUID } from 'node:crypto';
import { S3Client } from '@aws-sdk/client-s3';
import { type Minio, startMinio } from '@ckpt/test-servers';
import { runConformance } from '@ckpt/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { S3Backend } from '../src/s3-store.js';
import { s3RawReader } from './raw-reader.js';

// MinIO enforces If-None-Match: * and If-Match on PUT and lists in byte order: every group runs,
// conditional writes included, and no test is left out by name. Only keyIsAlsoPrefix is off: once
// a key `a` exists MinIO's listings leave out the keys under `a/`, so the suite checks instead that
// such keys are never corrupted.
let server: Minio;
let client: S3Client;
let bucket: string;

beforeAll(async () => {
  server = await startMinio();
  client = new S3Client(server.clientConfig());
  bucket = await server.createBucket();
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

runConformance(
  { describe, it },
  {
    name: 'S3Backend (MinIO)',
    async create() {
      const prefix = `conformance/${randomUUID()}`;
      // small parts and pages: the streaming group goes multipart, every listing pages
      const backend = new S3Backend({
        client,
        bucket,
        prefix,
        conditionalWrites: true,
        keyIsAlsoPrefix: false,
        partSize: 5 * 1024 * 1024,
        listPageSize: 100,
      });
      return { backend, raw: s3RawReader(client, bucket, prefix) };
    },
  },
);
