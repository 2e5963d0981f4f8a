import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startMinio } from '@ckpt/test-servers';
import { type BenchServer, bucketName, storeBucketOps } from './bench-server.js';
import type { S3Server } from './types.js';

/** The benchmark's MinIO, shared by ckpt and every S3 tool. */
export interface BenchMinio extends BenchServer, S3Server {}

/** Starts MinIO over `directory` through `@ckpt/test-servers`, the launcher the tests use. */
export async function startBenchMinio(directory: string): Promise<BenchMinio> {
  const minio = await startMinio({ directory });
  const server: S3Server = { endpoint: minio.endpoint, credentials: minio.credentials };
  return {
    ...server,
    pid: minio.pid,
    newBucket: (label) => minio.createBucket(bucketName(label)),
    bucketPaths: (bucket) => [join(directory, bucket)],
    ...storeBucketOps((bucket) => ({ kind: 's3', bucket, ...server })),
    async stop() {
      await minio.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
