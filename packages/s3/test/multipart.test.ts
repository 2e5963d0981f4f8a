import { createHash, randomUUID } from 'node:crypto';
import { ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { StoreError } from '@ckpt/core';
import { readAll } from '@ckpt/core/backend';
import { useMinio } from '@ckpt/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import type { S3BackendOptions } from '../src/options.js';
import { S3Store } from '../src/s3-store.js';
import {
  MiB,
  patternBytes,
  patternStream,
  RssProbe,
  recordCommands,
  rejection,
  sha256Of,
  waitFor,
} from './helpers.js';
import { s3RawReader } from './raw-reader.js';

const minio = useMinio();
const stores: S3Store[] = [];

afterAll(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

/**
 * A store over a fresh prefix (Content-MD5 per part unless asked otherwise), its command
 * recorder, a raw reader of that prefix, and the multipart uploads still open under it.
 */
function setup(options: Partial<S3BackendOptions> = {}) {
  const prefix = `multipart/${randomUUID()}`;
  const store = new S3Store({
    ...minio.server.storeOptions(),
    checksums: 'when_required',
    bucket: minio.bucket,
    prefix,
    partSize: 5 * MiB,
    ...options,
  });
  stores.push(store);
  const openUploads = async () => {
    const out = await minio.client.send(
      new ListMultipartUploadsCommand({ Bucket: minio.bucket, Prefix: `${prefix}/` }),
    );
    return (out.Uploads ?? []).map((upload) => upload.Key);
  };
  return {
    store,
    recorder: recordCommands(store.client),
    raw: s3RawReader(minio.client, minio.bucket, prefix),
    openUploads,
  };
}

describe('S3Store multipart uploads (MinIO)', () => {
  it('streams a 100 MiB+ object of unknown size through 5 MiB parts and back, byte-exact, in bounded memory', async () => {
    const { store, recorder } = setup({ concurrency: 4 });
    const size = 100 * MiB + 12_345;
    // start the store's MD5 worker first: a thread (~11 MiB RSS, once per store) is not what a put buffers
    await store.put('warm-up', patternBytes(0, 4 * MiB));
    const putProbe = new RssProbe();
    const source = patternStream(size, { onChunk: putProbe.progress });
    const put = await store.put('pages-1.img', source.stream);
    const putGrowth = putProbe.stop();
    const parts = recorder.parts().map((call) => call.input.ContentLength);
    expect(put.size).toBe(size);
    expect(parts).toEqual([...Array(20).fill(5 * MiB), size - 20 * 5 * MiB]);
    // the server checks each part against its Content-MD5; check here that the header is the part's own MD5
    let offset = 0;
    const md5s = parts.map((length) => {
      const bytes = patternBytes(offset, Number(length));
      offset += bytes.length;
      return createHash('md5').update(bytes).digest('base64');
    });
    expect(recorder.parts().map((call) => call.input.ContentMD5)).toEqual(md5s);
    expect(recorder.maxPartsInFlight).toBeLessThanOrEqual(4);
    expect(recorder.named('CompleteMultipartUpload')).toHaveLength(1);
    expect(recorder.named('PutObject').map((call) => call.input.ContentLength)).toEqual([4 * MiB]); // warm-up

    const head = await store.head('pages-1.img');
    expect(head).toMatchObject({ size, version: put.version });
    const getProbe = new RssProbe();
    const got = await sha256Of((await store.get('pages-1.img')).body, getProbe.progress);
    const getGrowth = getProbe.stop();
    expect(got).toEqual({ hex: await source.digest, bytes: size });

    // a range across a part boundary (5 MiB) and the tail
    const across = await store.get('pages-1.img', { range: { offset: 5 * MiB - 100, length: 300 } });
    expect(await readAll(across.body)).toEqual(patternBytes(5 * MiB - 100, 300));
    const tail = await store.get('pages-1.img', { range: { offset: size - 10 } });
    expect(tail.range).toEqual({ offset: size - 10, length: 10 });

    console.log(
      `100 MiB put: RSS +${(putGrowth / MiB).toFixed(1)} MiB; get: RSS +${(getGrowth / MiB).toFixed(1)} MiB`,
    );
    // budget: 4 parts in flight + 1 being filled (25 MiB) and the first block; the object is 100 MiB
    expect(putGrowth).toBeLessThan(40 * MiB);
    expect(getGrowth).toBeLessThan(40 * MiB);
  });

  it('sends a body up to the threshold as one PutObject and one byte more as a multipart upload', async () => {
    const { store, recorder } = setup({ multipartThreshold: 6 * MiB });
    await store.put('at-threshold', patternStream(6 * MiB).stream);
    expect(recorder.named('PutObject').map((call) => call.input.ContentLength)).toEqual([6 * MiB]);
    expect(recorder.named('CreateMultipartUpload')).toHaveLength(0);

    const bytes = patternBytes(0, 6 * MiB + 1);
    const put = await store.put('above-threshold', bytes, { size: bytes.length });
    expect(put.size).toBe(bytes.length);
    expect(recorder.parts().map((call) => call.input.ContentLength)).toEqual([5 * MiB, MiB + 1]);
    expect((await readAll((await store.get('above-threshold')).body)).equals(bytes)).toBe(true);
  });

  it("with checksums 'when_supported', sends CRC32 per part (no aws-chunked framing) and round-trips", async () => {
    const { store, recorder } = setup({ checksums: 'when_supported' });
    const source = patternStream(20 * MiB + 3);
    await store.put('crc.img', source.stream);
    const parts = recorder.named('UploadPart');
    expect(parts.map((call) => call.input.ChecksumAlgorithm)).toEqual(Array(5).fill('CRC32'));
    expect(parts.every((call) => call.input.ContentMD5 === undefined)).toBe(true);
    expect(recorder.named('CreateMultipartUpload')[0]?.input.ChecksumAlgorithm).toBe('CRC32');
    const got = await sha256Of((await store.get('crc.img')).body);
    expect(got).toEqual({ hex: await source.digest, bytes: 20 * MiB + 3 });
    const small = Buffer.from('small object, CRC32 in a header');
    await store.put('crc-small', small);
    expect((await readAll((await store.get('crc-small')).body)).equals(small)).toBe(true);
  });

  it('aborts the upload when the body fails mid-way and leaves nothing under the key', async () => {
    const { store, recorder, raw, openUploads } = setup();
    const failure = new Error('disk read failed');
    const source = patternStream(40 * MiB, { fail: failure, afterBytes: 23 * MiB });

    const err = await rejection(store.put('broken.img', source.stream));
    expect(err.cause).toBe(failure);
    expect(err.message).toContain('put broken.img');
    const uploadId =
      recorder.named('CreateMultipartUpload').length === 1 && recorder.named('UploadPart')[0]?.input.UploadId;
    expect(uploadId).toBeTruthy();
    expect(recorder.named('AbortMultipartUpload').map((call) => call.input.UploadId)).toEqual([uploadId]);
    expect(recorder.named('CompleteMultipartUpload')).toHaveLength(0);
    expect(StoreError.is(await rejection(store.head('broken.img')), 'NotFound')).toBe(true);
    expect(await raw.keys()).toEqual([]);
    expect(await openUploads()).toEqual([]);
  });

  it('stops on the abort signal, even while the body is stalled, and completes nothing', async () => {
    const { store, recorder, raw, openUploads } = setup();
    // stalls after 30 MiB: beyond the 16 MiB threshold, so the multipart upload is under way
    const source = patternStream(60 * MiB, { stall: true, afterBytes: 30 * MiB });
    const controller = new AbortController();
    const put = store.put('stalled.img', source.stream, { signal: controller.signal });
    await waitFor(() => recorder.named('UploadPart').length >= 3);
    const started = Date.now();
    controller.abort();

    const err = await rejection(put);
    expect(err.code).toBe('Aborted');
    expect(Date.now() - started).toBeLessThan(2000);
    expect(recorder.named('AbortMultipartUpload')).toHaveLength(1);
    expect(recorder.named('CompleteMultipartUpload')).toHaveLength(0);
    expect(await raw.keys()).toEqual([]);
    expect(await openUploads()).toEqual([]);
  });

  it('fails with Integrity and stores nothing when the body is shorter or longer than the declared size', async () => {
    const { store, recorder, raw, openUploads } = setup();
    // multipart: short at the end, long mid-way; both uploads aborted, never completed
    const short = await rejection(store.put('short.img', patternStream(30 * MiB).stream, { size: 40 * MiB }));
    const long = await rejection(store.put('long.img', patternStream(30 * MiB).stream, { size: 21 * MiB }));
    // below the threshold: refused before anything is sent
    const single = await rejection(store.put('single.img', patternBytes(0, 1000), { size: 999 }));
    expect([short.code, long.code, single.code]).toEqual(['Integrity', 'Integrity', 'Integrity']);
    expect(short.message).toContain('expected 41943040');
    expect(recorder.named('CreateMultipartUpload')).toHaveLength(2);
    expect(recorder.named('AbortMultipartUpload')).toHaveLength(2);
    expect(recorder.named('CompleteMultipartUpload')).toHaveLength(0);
    expect(recorder.named('PutObject')).toHaveLength(0);
    expect(await raw.keys()).toEqual([]);
    expect(await openUploads()).toEqual([]);
  });
});
