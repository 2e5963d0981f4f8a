import { randomUUID } from 'node:crypto';
import { useMinio } from '@ckpt/test-utils';
import { runConformance } from '@ckpt/testkit';
import { describe, it } from 'vitest';
import { S3Backend } from '../src/s3-store.js';
import { s3RawReader } from './raw-reader.js';

// MinIO enforces If-None-Match: * and If-Match on PUT and lists in byte order: every group runs,
// conditional writes included, and no test is left out by name. Only keyIsAlsoPrefix is off: once
// a key `a` exists MinIO's listings leave out the keys under `a/`, so the suite checks instead that
// such keys are never corrupted.
const minio = useMinio();

runConformance(
  { describe, it },
  {
    name: 'S3Backend (MinIO)',
    async create() {
      const prefix = `conformance/${randomUUID()}`;
      // small parts and pages: the streaming group goes multipart, every listing pages
      const backend = new S3Backend({
        client: minio.client,
        bucket: minio.bucket,
        prefix,
        conditionalWrites: true,
        keyIsAlsoPrefix: false,
        partSize: 5 * 1024 * 1024,
        listPageSize: 100,
      });
      return { backend, raw: s3RawReader(minio.client, minio.bucket, prefix) };
    },
  },
);
