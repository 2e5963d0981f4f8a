import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { type S3rver, startS3rver as startServer } from '@ckpt/s3/s3rver';

/** The benchmark's s3rver: `@ckpt/s3/s3rver` over a chosen directory, with buckets per run. */
export interface S3rverProcess extends S3rver {
  /** Creates a bucket with a fresh name that starts with `label`. */
  newBucket(label: string): Promise<string>;
  /** Forgets a bucket's data by removing its folder (cleanup between runs; not measured). */
  dropBucket(bucket: string): Promise<void>;
}

/** Starts s3rver over `directory` (created; kept when it stops) and waits until it listens. */
export async function startS3rver(directory: string): Promise<S3rverProcess> {
  const server = await startServer({ directory });
  return {
    ...server,
    newBucket: (label) => server.createBucket(`${label}-${randomBytes(4).toString('hex')}`),
    dropBucket: (bucket) => rm(join(directory, bucket), { recursive: true, force: true }),
  };
}
