// Incomplete multipart uploads a dead process left: removeAbandoned aborts those older than asked,
// under the store's prefix only, and leaves younger ones and other prefixes alone.
import {
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type Minio, startMinio } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../src/s3-store.js';

let server: Minio;
let bucket: string;
let client: S3Client;

beforeAll(async () => {
  server = await startMinio();
  bucket = await server.createBucket();
  client = new S3Client(server.clientConfig());
});
afterAll(async () => {
  client?.destroy();
  await server?.stop();
});

/** Starts a multipart upload of `key` with one part, as a put killed midway leaves it. */
async function abandon(key: string): Promise<void> {
  const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  await client.send(
    new UploadPartCommand({
      Bucket: bucket,
      Key: key,
      UploadId,
      PartNumber: 1,
      Body: Buffer.alloc(5 << 20, 1),
    }),
  );
}

const uploads = async () =>
  ((await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? [])
    .map((u) => u.Key)
    .sort();

it('aborts the incomplete uploads under its prefix older than asked, and only those', async () => {
  await abandon('team/ckpt/manifest-1.json');
  await abandon('team/ckpt/manifest-2.json');
  await abandon('other/x.json');
  const store = new S3Store({ ...server.storeOptions(), bucket, prefix: 'team' });
  // none is an hour old: nothing goes
  expect(await store.removeAbandoned(3600_000)).toEqual({ removed: 0, bytes: 0 });
  expect(await uploads()).toHaveLength(3);
  expect((await store.removeAbandoned(0)).removed).toBe(2);
  expect(await uploads()).toEqual(['other/x.json']);
  await store.close();
});
