// Where fake-gcs-server departs from what GCS documents, shown on the real server so the skip in
// integrity.test.ts stays honest: when the server changes, this fails.
import { type FakeGcs, startFakeGcs } from '@ckpt/test-servers';
import { CRC32C, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { sdkDownload } from './sdk-download.js';

let server: FakeGcs;
let bucket: string;

beforeAll(async () => {
  server = await startFakeGcs();
  bucket = await server.createBucket();
});
afterAll(async () => {
  await server?.stop();
});

it('fake-gcs-server makes the object of a resumable upload whose X-Goog-Hash does not match its bytes', async () => {
  const start = await fetch(
    `${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&name=k`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    },
  );
  const session = start.headers.get('location');
  await start.body?.cancel();
  expect(session).toBeTruthy();
  // GCS answers 400 and makes no object: the bytes sent are "hello", the checksum is that of "other"
  const other = new CRC32C();
  other.update(Buffer.from('other'));
  const last = await fetch(session!, {
    method: 'PUT',
    headers: { 'content-range': 'bytes 0-4/5', 'x-goog-hash': `crc32c=${other.toString()}` },
    body: 'hello',
  });
  await last.body?.cancel();
  expect(last.status).toBe(200);
  const contents = await sdkDownload(
    new Storage({ apiEndpoint: server.endpoint, projectId: server.projectId }).bucket(bucket).file('k'),
  );
  expect(contents.toString()).toBe('hello');
});
