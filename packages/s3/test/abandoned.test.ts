// Incomplete multipart uploads a dead process left: removeAbandoned aborts those older than asked,
// under the store's prefix only, and leaves younger ones and other prefixes alone.
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { useMinio } from '@ckpt/test-utils';
import { expect, it } from 'vitest';
import { S3Store } from '../src/s3-store.js';

const minio = useMinio();

/** Starts a multipart upload of `key` with one part, as a put killed midway leaves it. */
async function abandon(key: string): Promise<void> {
  const { UploadId } = await minio.client.send(
    new CreateMultipartUploadCommand({ Bucket: minio.bucket, Key: key }),
  );
  await minio.client.send(
    new UploadPartCommand({
      Bucket: minio.bucket,
      Key: key,
      UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(5 << 20, 1),
    }),
  );
}

const uploads = async () =>
  ((await minio.client.send(new ListMultipartUploadsCommand({ Bucket: minio.bucket }))).Uploads ?? [])
    .map((u) => u.Key)
    .sort();

it('aborts the incomplete uploads under its prefix older than asked, and only those', async () => {
  await abandon('team/ckpt/manifest-1.json');
  await abandon('team/ckpt/manifest-2.json');
  await abandon('other/x.json');
  const store = new S3Store({ ...minio.server.storeOptions(), bucket: minio.bucket, prefix: 'team' });
  // none is an hour old: nothing goes
  expect(await store.removeAbandoned(3600_000)).toEqual({ removed: 0, bytes: 0 });
  expect(await uploads()).toHaveLength(3);
  expect((await store.removeAbandoned(0)).removed).toBe(2);
  expect(await uploads()).toEqual(['other/x.json']);
  await store.close();
});
