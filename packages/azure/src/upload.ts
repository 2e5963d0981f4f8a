import { createHash, randomBytes } from 'node:crypto';
import type { BlobRequestConditions, BlockBlobClient } from '@azure/storage-blob';
import { type PutMode, type PutResult, StoreError } from '@ckpt/core';
import { type BlockReader, type HeadBlock, type PartBuffers, sendParts } from '@ckpt/core/backend';
import { MAX_BLOCKS } from './options.js';

/** One block-list put: where it goes and how it is sent. */
export interface BlockJob {
  blob: BlockBlobClient;
  /** The key the caller used, for messages. */
  key: string;
  /** Most blocks buffered or in flight at once. */
  concurrency: number;
  /** The exact length the caller declared, if any. */
  size?: number;
  mode: PutMode;
  signal?: AbortSignal;
  /** Runs one SDK call (timeouts read as retryable failures). */
  call<T>(run: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined): Promise<T>;
}

/** The request conditions of a put mode: `If-None-Match: *` or `If-Match: <etag>`. */
export function conditionsOf(mode: PutMode): BlobRequestConditions {
  if (mode === 'create') return { ifNoneMatch: '*' };
  if (typeof mode === 'object') return { ifMatch: mode.update };
  return {};
}

/** The raw MD5 of `bytes`, sent as the transactional Content-MD5 so Azure checks what arrived. */
export function md5(bytes: Uint8Array): Uint8Array {
  return createHash('md5').update(bytes).digest();
}

/**
 * Stages `first` (blocks already read) and the rest of `reader` as uncommitted blocks, at most
 * `concurrency` in flight, read into reused `buffers`, then commits them with one Put Block List
 * carrying the condition. Uncommitted blocks are invisible: any failure, a wrong length or the
 * caller's signal cancels the blocks in flight and commits nothing, so the key is left as it was
 * (Azure discards uncommitted blocks after a week; the next commit of the blob drops them too).
 */
export async function uploadBlocks(
  job: BlockJob,
  first: HeadBlock[],
  reader: BlockReader,
  buffers: PartBuffers,
): Promise<PutResult> {
  // block ids of one put share a random stem, so two puts racing on a key never mix blocks
  const stem = randomBytes(12).toString('hex');
  const ids: string[] = [];
  const { concurrency, size, key, signal } = job;
  const options = { concurrency, maxParts: MAX_BLOCKS, what: 'block', size, key, signal };
  const total = await sendParts(first, reader, buffers, options, async (body, index, cancel) => {
    const id = Buffer.from(`${stem}-${String(index).padStart(6, '0')}`).toString('base64');
    ids[index] = id;
    await job.call(
      (s) =>
        job.blob.stageBlock(id, body, body.length, { abortSignal: s, transactionalContentMD5: md5(body) }),
      cancel,
    );
  });
  job.signal?.throwIfAborted();
  const done = await job.call(
    (s) => job.blob.commitBlockList(ids, { abortSignal: s, conditions: conditionsOf(job.mode) }),
    job.signal,
  );
  if (!done.etag) throw new StoreError('Internal', 'Put Block List returned no ETag', where(job));
  return { version: done.etag, size: total };
}

function where(job: BlockJob) {
  return { operation: 'put', key: job.key };
}
