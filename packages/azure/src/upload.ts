import { createHash, randomBytes } from 'node:crypto';
import type { BlobRequestConditions, BlockBlobClient } from '@azure/storage-blob';
import { type PutMode, type PutResult, StoreError } from '@ckpt/core';
import type { BlockReader, PartBuffers } from './blocks.js';
import { MAX_BLOCKS } from './options.js';

/** A block read before staging started; `pooled` is its buffer when it came from the pool. */
export interface HeadBlock {
  bytes: Buffer;
  pooled?: Buffer;
}

/** One block-list put: where it goes and how it is sent. */
export interface BlockJob {
  blob: BlockBlobClient;
  /** The key the caller used, for messages. */
  key: string;
  blockSize: number;
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
  const cancel = new AbortController();
  const signal = job.signal ? AbortSignal.any([job.signal, cancel.signal]) : cancel.signal;
  const inFlight = new Set<Promise<void>>();
  const failures: unknown[] = [];
  let total = 0;

  const start = (body: Buffer, release?: () => void) => {
    if (ids.length === MAX_BLOCKS) {
      throw new StoreError(
        'InvalidArgument',
        `the body needs more than ${MAX_BLOCKS} blocks of ${job.blockSize} bytes: pass options.size or a larger blockSize`,
        where(job),
      );
    }
    const id = Buffer.from(`${stem}-${String(ids.length).padStart(6, '0')}`).toString('base64');
    ids.push(id);
    total += body.length;
    checkLength(job, total, false);
    const task: Promise<void> = job
      .call(
        (s) =>
          job.blob.stageBlock(id, body, body.length, {
            abortSignal: s,
            transactionalContentMD5: md5(body),
          }),
        signal,
      )
      .then(
        () => release?.(),
        (error: unknown) => {
          failures.push(error);
          cancel.abort();
        },
      );
    inFlight.add(task);
    void task.finally(() => inFlight.delete(task));
  };

  try {
    for (const { bytes, pooled } of first.splice(0)) {
      await waitForSlot(inFlight, job.concurrency);
      if (failures.length > 0) throw failures[0];
      start(bytes, pooled ? () => buffers.give(pooled) : undefined);
    }
    for (;;) {
      await waitForSlot(inFlight, job.concurrency);
      if (failures.length > 0) throw failures[0];
      const buffer = buffers.take();
      const block = await reader.readInto(buffer, job.signal);
      if (block.length === 0) break;
      start(block, () => buffers.give(buffer));
    }
    await Promise.all(inFlight);
    if (failures.length > 0) throw failures[0];
    checkLength(job, total, true);
    job.signal?.throwIfAborted();
    const done = await job.call(
      (s) => job.blob.commitBlockList(ids, { abortSignal: s, conditions: conditionsOf(job.mode) }),
      job.signal,
    );
    if (!done.etag) throw new StoreError('Internal', 'Put Block List returned no ETag', where(job));
    return { version: done.etag, size: total };
  } catch (error) {
    cancel.abort();
    await Promise.allSettled(inFlight);
    throw error;
  }
}

async function waitForSlot(inFlight: Set<Promise<void>>, concurrency: number): Promise<void> {
  while (inFlight.size >= concurrency) await Promise.race(inFlight);
}

/** Throws `Integrity` when more bytes than declared arrived, or (at the end) fewer. */
function checkLength(job: BlockJob, total: number, atEnd: boolean): void {
  if (job.size === undefined) return;
  if (total > job.size || (atEnd && total !== job.size)) {
    const detail = total > job.size ? `more than ${job.size}` : `${total}`;
    throw new StoreError('Integrity', `body has ${detail} bytes, expected ${job.size}`, where(job));
  }
}

function where(job: BlockJob) {
  return { operation: 'put', key: job.key };
}
