import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startFakeGcs } from '@ckpt/test-servers';
import { type BenchServer, bucketName, storeBucketOps } from './bench-server.js';

/** The benchmark's fake-gcs-server, shared by ckpt and rclone. */
export interface BenchFakeGcs extends BenchServer {
  /** `http://127.0.0.1:<port>`: the JSON API's root. */
  endpoint: string;
  projectId: string;
}

/**
 * Starts fake-gcs-server through `@ckpt/test-servers` with its filesystem backend over
 * `directory`: objects on disk, as MinIO and Azurite keep them (a bucket's under `<directory>/<bucket>`).
 */
export async function startBenchFakeGcs(directory: string): Promise<BenchFakeGcs> {
  const gcs = await startFakeGcs({ backend: 'filesystem', directory });
  const { endpoint, projectId } = gcs;
  return {
    endpoint,
    projectId,
    pid: gcs.pid,
    newBucket: (label) => gcs.createBucket(bucketName(label)),
    bucketPaths: (bucket) => [join(directory, bucket)],
    ...storeBucketOps((bucket) => ({ kind: 'gcs', bucket, apiEndpoint: endpoint, projectId })),
    async stop() {
      await gcs.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
