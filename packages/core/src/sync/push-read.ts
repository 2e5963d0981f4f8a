import { lstat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ChunkPacker } from './chunk-packer.js';
import type { EngineContext } from './engine-context.js';
import type { Progress } from './progress.js';
import { settleAll } from './run-all.js';
import type { ScannedFile } from './scan.js';
import { sameStamp, stampOf } from './stamp.js';

/** Files up to this size are one chunk each, read whole by the workers in batches. */
const SMALL_FILE = 256 * 1024;
/** A batch of small files read by one worker task: up to this many files or about this many bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 1024 * 1024;
/** Batches of small files in flight at once. */
const BATCHES_AT_ONCE = 4;
/** Files of one chunking segment chunked at once (they share the read-ahead budget). */
const MEDIUM_AT_ONCE = 4;

/** What reading the changed files gave: each file's extents, and their zero-run bytes. */
export interface ReadResult {
  extents: Map<string, number[]>;
  zeroBytes: number;
}

/**
 * Reads, chunks and hashes `files` on the file workers and hands every chunk to `chunks`
 * (new ones go from the threads' read buffers into packs). Small files go to the workers in
 * batches, files of one segment a few at a time (one such file leaves a worker idle), then
 * larger files one by one, each with all the read-ahead. A file whose stamp changes while it is
 * read fails with `Conflict`: it would be stored as a mix of two versions.
 */
export async function readChanged(
  ctx: EngineContext,
  files: ScannedFile[],
  chunks: ChunkPacker,
  progress: Progress,
  signal?: AbortSignal,
): Promise<ReadResult> {
  const result: ReadResult = { extents: new Map(), zeroBytes: 0 };
  const done = (file: ScannedFile, extents: number[]) => {
    result.extents.set(file.path, extents);
    progress.add(0, 1);
  };

  /** Read buffers of finished batches, reused by the next ones. */
  const batchBuffers: ArrayBuffer[] = [];
  const readSmall = async (batch: ScannedFile[]) => {
    throwIfAborted(signal, 'push', batch[0]!.abs);
    const read = await ctx.workers().readFiles(
      batch.map((f) => ({ path: f.abs, size: f.size })),
      { signal, buffer: batchBuffers.pop(), bufferSize: BATCH_BYTES + SMALL_FILE },
    );
    for (const [i, file] of batch.entries()) {
      const { data, hash, stamp } = read[i]!;
      if (data.length !== file.size || !sameStamp(stamp, file.stat)) throw changed(file.abs);
      if (hash === null) result.zeroBytes += data.length;
      done(file, [
        hash === null ? -data.length : await chunks.add(hash, data.length, (t) => void t.set(data)),
      ]);
      progress.add(data.length);
    }
    // every chunk of the batch has been copied into a pack (add resolved): reuse its buffer
    batchBuffers.push(read[0]!.data.buffer as ArrayBuffer);
  };

  const readLarger = async (file: ScannedFile, readAhead: number) => {
    throwIfAborted(signal, 'push', file.abs);
    const extents: number[] = [];
    for await (const batch of ctx.workers().chunkFile(file.abs, { signal, readAhead, withData: true })) {
      for (const chunk of batch) {
        if (chunk.hash === null) {
          result.zeroBytes += chunk.length;
          extents.push(-chunk.length);
        } else {
          const data = chunk.data!;
          extents.push(await chunks.add(chunk.hash, chunk.length, (target) => void target.set(data)));
        }
        progress.add(chunk.length);
      }
    }
    if (!sameStamp(stampOf(await lstat(file.abs, { bigint: true })), file.stat)) throw changed(file.abs);
    done(file, extents);
  };

  const batches = pLimit(BATCHES_AT_ONCE);
  const medium = pLimit(MEDIUM_AT_ONCE);
  const { segmentSize } = ctx.workers();
  const readAhead = ctx.memoryBudget / 2;
  await settleAll([
    ...smallBatches(files.filter((f) => f.size <= SMALL_FILE)).map((b) => batches(() => readSmall(b))),
    ...files
      .filter((f) => f.size > SMALL_FILE && f.size <= segmentSize)
      .map((f) => medium(() => readLarger(f, readAhead / MEDIUM_AT_ONCE))),
  ]);
  for (const file of files.filter((f) => f.size > segmentSize)) await readLarger(file, readAhead);
  return result;
}

/** Small files in batches of at most {@link BATCH_FILES} files and about {@link BATCH_BYTES} bytes, in order. */
function smallBatches<F extends { size: number }>(files: F[]): F[][] {
  const batches: F[][] = [];
  let bytes = Number.POSITIVE_INFINITY;
  for (const file of files) {
    const last = batches.at(-1);
    if (!last || last.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES) {
      batches.push([file]);
      bytes = file.size;
    } else {
      last.push(file);
      bytes += file.size;
    }
  }
  return batches;
}

function changed(file: string): StoreError {
  return new StoreError('Conflict', 'the file changed while it was being pushed', {
    operation: 'push',
    key: file,
  });
}
