import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { RawReader } from '@ckpt/testkit';

/**
 * Reads a bucket prefix with plain SDK calls (GetObject, ListObjectsV2), bypassing S3Store, so
 * tests see what really landed. `prefix` is the store's key prefix, without a trailing `/`.
 */
export function s3RawReader(client: S3Client, bucket: string, prefix: string): RawReader {
  const root = `${prefix}/`;
  return {
    async read(key) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: root + key }));
        return await out.Body?.transformToByteArray();
      } catch (err) {
        if ((err as { name?: string }).name === 'NoSuchKey') return undefined;
        throw err;
      }
    },
    async keys() {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: root, ContinuationToken: token }),
        );
        for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(root.length));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    },
  };
}
