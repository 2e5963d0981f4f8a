import { randomBytes } from 'node:crypto';
import { startMinio } from '@ckpt/test-servers';
import { s3Client } from './sdk.js';
import type { S3Server } from './types.js';

/** The benchmark's MinIO (one per run, shared by ckpt and every S3 tool), with buckets per chain. */
export interface BenchMinio extends S3Server {
  /** Its data directory: a bucket's objects are under `<directory>/<bucket>`. */
  directory: string;
  /** Creates a bucket with a fresh name that starts with `label`. */
  newBucket(label: string): Promise<string>;
  /** Sum of the sizes of a bucket's objects. */
  bucketBytes(bucket: string): Promise<number>;
  /** Deletes a bucket and everything in it (cleanup between runs; not measured). */
  dropBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

/** Starts MinIO over `directory` through `@ckpt/test-servers`, the launcher the tests use. */
export async function startBenchMinio(directory: string): Promise<BenchMinio> {
  const minio = await startMinio({ directory });
  const server: S3Server = { endpoint: minio.endpoint, credentials: minio.credentials };
  const withClient = async <T>(use: (c: Awaited<ReturnType<typeof s3Client>>) => Promise<T>): Promise<T> => {
    const c = await s3Client(server);
    try {
      return await use(c);
    } finally {
      c.client.destroy();
    }
  };
  /** Every key of `bucket` with its size, page by page. */
  const list = (bucket: string) =>
    withClient(async ({ client, sdk }) => {
      const objects: { Key: string; Size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new sdk.ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }),
        );
        for (const o of (page.Contents ?? []) as { Key: string; Size: number }[]) objects.push(o);
        token = page.IsTruncated ? (page.NextContinuationToken as string) : undefined;
      } while (token);
      return objects;
    });
  return {
    ...server,
    directory,
    newBucket: (label) => minio.createBucket(`${label}-${randomBytes(4).toString('hex')}`),
    bucketBytes: async (bucket) => (await list(bucket)).reduce((sum, o) => sum + o.Size, 0),
    async dropBucket(bucket) {
      const keys = (await list(bucket)).map((o) => ({ Key: o.Key }));
      await withClient(async ({ client, sdk }) => {
        for (let i = 0; i < keys.length; i += 1000) {
          const Objects = keys.slice(i, i + 1000);
          await client.send(
            new sdk.DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects, Quiet: true } }),
          );
        }
        await client.send(new sdk.DeleteBucketCommand({ Bucket: bucket }));
      });
    },
    stop: minio.stop,
  };
}
