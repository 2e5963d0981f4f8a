import {
  AbortMultipartUploadCommand,
  type CompletedPart,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  type S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { type PutMode, type PutResult, StoreError } from '@ckpt/core';
import { type BlockReader, type HeadBlock, type PartBuffers, sendParts } from '@ckpt/core/backend';
import type { Md5Pool } from './md5-pool.js';
import { MAX_PART_SIZE, MAX_PARTS } from './options.js';
import { conditionHeaders, versionOf } from './wire.js';

const MiB = 1024 * 1024;

/**
 * The part size for an object of `size` bytes: `configured`, grown (in whole MiB) just enough
 * that {@link MAX_PARTS} parts cover the object. Unknown size keeps `configured`. Every part but
 * the last has this size (R2 requires equal parts).
 */
export function choosePartSize(configured: number, size?: number): number {
  if (size === undefined) return configured;
  const needed = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return Math.min(Math.max(configured, needed), MAX_PART_SIZE);
}

/** One multipart put: where it goes and how it is sent. */
export interface MultipartJob {
  client: S3Client;
  bucket: string;
  /** The full object key (store prefix included). */
  objectKey: string;
  /** The key the caller used, for messages. */
  key: string;
  /** Most parts buffered or in flight at once. */
  concurrency: number;
  checksum: 'crc32' | 'md5';
  /** Computes each part's Content-MD5 when `checksum` is `'md5'`. */
  md5: Md5Pool;
  /** The exact length the caller declared, if any. */
  size?: number;
  metadata?: Record<string, string>;
  mode: PutMode;
  signal?: AbortSignal;
}

/**
 * Uploads `first` (blocks already read) and the rest of `reader` as one multipart upload, with
 * at most `concurrency` parts in flight, read into reused `buffers`. Any failure, a wrong length or the caller's signal
 * aborts the upload (in-flight parts are cancelled first) and rethrows the original error: the
 * key is left as it was. The condition (`If-None-Match`/`If-Match`) is checked at completion.
 */
export async function uploadMultipart(
  job: MultipartJob,
  first: HeadBlock[],
  reader: BlockReader,
  buffers: PartBuffers,
): Promise<PutResult> {
  const { client, bucket, objectKey } = job;
  const crc32 = job.checksum === 'crc32';
  const created = await client.send(
    new CreateMultipartUploadCommand({
      Bucket: bucket,
      Key: objectKey,
      Metadata: job.metadata,
      ChecksumAlgorithm: crc32 ? 'CRC32' : undefined,
    }),
    { abortSignal: job.signal },
  );
  const uploadId = created.UploadId;
  if (!uploadId) throw new StoreError('Internal', 'CreateMultipartUpload returned no UploadId', where(job));
  const parts: CompletedPart[] = [];
  try {
    const { concurrency, size, key, signal } = job;
    const options = { concurrency, maxParts: MAX_PARTS, what: 'part', size, key, signal };
    const total = await sendParts(first, reader, buffers, options, async (body, index, cancel) => {
      parts[index] = await uploadPart(job, uploadId, index + 1, body, cancel);
    });
    const done = await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: bucket,
        Key: objectKey,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
        ...conditionHeaders(job.mode),
      }),
      { abortSignal: job.signal },
    );
    return { version: versionOf(done.ETag, 'put', job.key), size: total };
  } catch (error) {
    await abortUpload(job, uploadId);
    throw error;
  }
}

async function uploadPart(
  job: MultipartJob,
  uploadId: string,
  partNumber: number,
  body: Buffer,
  signal: AbortSignal,
): Promise<CompletedPart> {
  const crc32 = job.checksum === 'crc32';
  const out = await job.client.send(
    new UploadPartCommand({
      Bucket: job.bucket,
      Key: job.objectKey,
      UploadId: uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: body.length,
      ContentMD5: crc32 ? undefined : await job.md5.digest(body, where(job)),
      ChecksumAlgorithm: crc32 ? 'CRC32' : undefined,
    }),
    { abortSignal: signal },
  );
  if (!out.ETag) throw new StoreError('Internal', `UploadPart ${partNumber} returned no ETag`, where(job));
  const part: CompletedPart = { PartNumber: partNumber, ETag: out.ETag };
  if (out.ChecksumCRC32) part.ChecksumCRC32 = out.ChecksumCRC32;
  return part;
}

/**
 * Best-effort cleanup: its own failure (s3rver answers 405; a network error) is swallowed so the
 * error that caused it reaches the caller. Parts left behind are removed by a bucket lifecycle
 * rule (AbortIncompleteMultipartUpload) and are never visible under the key.
 */
async function abortUpload(job: MultipartJob, uploadId: string): Promise<void> {
  try {
    await job.client.send(
      new AbortMultipartUploadCommand({ Bucket: job.bucket, Key: job.objectKey, UploadId: uploadId }),
    );
  } catch {
    // see above: never hide the original error
  }
}

function where(job: MultipartJob) {
  return { operation: 'put', key: job.key };
}
