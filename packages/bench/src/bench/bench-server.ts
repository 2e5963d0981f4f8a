import { randomBytes } from 'node:crypto';
import type { ObjectMeta, ObjectStore } from '@ckpt/core';
import { openStore } from './stores.js';
import type { StoreSpec } from './types.js';

/**
 * An object-store server of the benchmark (one per run, shared by ckpt and every tool on it), with
 * a bucket (an Azure container) per chain.
 */
export interface BenchServer {
  /** The server's process: its CPU time is read around every operation. */
  pid: number;
  /** Creates a bucket with a fresh name that starts with `label`. */
  newBucket(label: string): Promise<string>;
  /** Local files that hold a bucket's objects (the page-cache warm-up reads them). */
  bucketPaths(bucket: string): string[];
  /** Sum of the sizes of a bucket's objects. */
  bucketBytes(bucket: string): Promise<number>;
  /** Removes what a bucket holds (cleanup between runs; not measured). */
  dropBucket(bucket: string): Promise<void>;
  /** Stops the server and removes its data. */
  stop(): Promise<void>;
}

/** `<label>-<8 hex>`: a name valid for an S3 or GCS bucket and an Azure container alike. */
export function bucketName(label: string): string {
  return `${label}-${randomBytes(4).toString('hex')}`;
}

/**
 * `bucketBytes` and `dropBucket` through ckpt's own store on the bucket (its listing and
 * `deleteMany`), for servers the benchmark has no other client for.
 */
export function storeBucketOps(
  spec: (bucket: string) => StoreSpec,
): Pick<BenchServer, 'bucketBytes' | 'dropBucket'> {
  const listed = async <T>(
    bucket: string,
    use: (store: ObjectStore, objects: ObjectMeta[]) => Promise<T>,
  ) => {
    const store = await openStore(spec(bucket));
    try {
      const objects: ObjectMeta[] = [];
      for await (const object of store.list()) objects.push(object);
      return await use(store, objects);
    } finally {
      await store.close?.();
    }
  };
  return {
    bucketBytes: (bucket) =>
      listed(bucket, async (_, objects) => objects.reduce((sum, o) => sum + o.size, 0)),
    dropBucket: (bucket) =>
      listed(bucket, async (store, objects) => {
        const { errors } = await store.deleteMany(objects.map((o) => o.key));
        if (errors.length) throw errors[0]!.error;
      }),
  };
}
