import { randomUUID } from 'node:crypto';
import { type FileHandle, lstat, open, readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { type PutBody, StoreError } from '@ckpt/core';
import { abortable, bodyChunks, WRITE_PIECE, writeAll } from '@ckpt/core/backend';

/** A fully written, fsynced temp file, still open, waiting to be renamed into place. */
export interface TempFile {
  path: string;
  handle: FileHandle;
  size: number;
}

export interface WriteTempOptions {
  key: string;
  /** Expected byte count: a body of another length fails with `Integrity`. */
  size?: number;
  signal?: AbortSignal;
  /** Called once the whole body is written, before the fsync: the body is no longer needed. */
  onWritten?: () => void;
}

/** Small chunks are gathered into writes of this size (the buffer each put holds): one `write(2)` each. */
const WRITE_BATCH_BYTES = WRITE_PIECE;
/** Pieces of a large chunk written at once (the thread pool has four threads by default). */
const WRITE_LANES = 4;

/**
 * Streams `body` into a new file in `tmpDir` and fsyncs it. Memory stays bounded: one chunk is
 * read, written and awaited before the next. On any failure (a size mismatch, an abort, a body
 * that errors, a full disk) the temp file is removed and the error is thrown.
 */
export async function writeTemp(tmpDir: string, body: PutBody, options: WriteTempOptions): Promise<TempFile> {
  const file = path.join(tmpDir, `${randomUUID()}.tmp`);
  const handle: FileHandle = await open(file, 'wx');
  try {
    const size = await copyBody(body, handle, options);
    options.onWritten?.();
    await handle.sync();
    return { path: file, handle, size };
  } catch (err) {
    await discardTemp({ path: file, handle, size: 0 });
    throw err;
  }
}

/**
 * Removes temp files in `tmpDir` not written to for `maxAgeMs`: left by writers that crashed.
 * A live writer touches its file with every write, so only a body stalled that long is at risk.
 */
export async function sweepTemp(
  tmpDir: string,
  maxAgeMs: number,
): Promise<{ removed: number; bytes: number }> {
  const oldest = Date.now() - maxAgeMs;
  const swept = { removed: 0, bytes: 0 };
  for (const name of await readdir(tmpDir)) {
    const file = path.join(tmpDir, name);
    const stat = await lstat(file).catch(() => undefined);
    if (!stat || stat.mtimeMs >= oldest) continue;
    if (
      await unlink(file).then(
        () => true,
        () => false,
      )
    ) {
      swept.removed++;
      swept.bytes += stat.size;
    }
  }
  return swept;
}

/** Closes and removes a temp file; never throws. */
export async function discardTemp(temp: TempFile): Promise<void> {
  await temp.handle.close().catch(() => {});
  await unlink(temp.path).catch(() => {});
}

async function copyBody(body: PutBody, handle: FileHandle, options: WriteTempOptions): Promise<number> {
  const { key, size: expected, signal } = options;
  const iterator = bodyChunks(body)[Symbol.asyncIterator]();
  // chunks are copied (a producer may reuse its buffer once we ask for the next one)
  const capacity = Math.max(1, Math.min(WRITE_BATCH_BYTES, expected ?? WRITE_BATCH_BYTES));
  let batch: Buffer | undefined;
  let batched = 0;
  let finished = false;
  let total = 0;
  /** Bytes in the file: `total` less those batched. */
  let written = 0;
  try {
    for (;;) {
      // raced anew for each chunk (see `abortable`)
      const next = await abortable(nextChunk(iterator, key), signal, 'put', key);
      if (next.done) break;
      const chunk = next.value;
      if (!(chunk instanceof Uint8Array)) {
        throw new StoreError('InvalidArgument', 'the body yielded something other than bytes', {
          operation: 'put',
          key,
        });
      }
      total += chunk.byteLength;
      if (expected !== undefined && total > expected) {
        throw new StoreError('Integrity', `the body is longer than options.size (${expected} bytes)`, {
          operation: 'put',
          key,
        });
      }
      if (batch && batched + chunk.byteLength > capacity) {
        await writeAll(handle, batch.subarray(0, batched), written);
        written += batched;
        batched = 0;
      }
      if (chunk.byteLength >= capacity) {
        await writeAll(handle, chunk, written, WRITE_LANES);
        written += chunk.byteLength;
      } else {
        batch ??= Buffer.allocUnsafe(capacity);
        batch.set(chunk, batched);
        batched += chunk.byteLength;
      }
    }
    finished = true;
    if (batch) await writeAll(handle, batch.subarray(0, batched), written);
    if (expected !== undefined && total !== expected) {
      throw new StoreError('Integrity', `the body has ${total} bytes, options.size says ${expected}`, {
        operation: 'put',
        key,
      });
    }
    return total;
  } finally {
    if (!finished) {
      // stop the producer: a Readable is destroyed even when a read is still pending
      if (body instanceof Readable) body.destroy();
      Promise.resolve(iterator.return?.()).catch(() => {});
    }
  }
}

/** The next chunk; a failing body becomes a StoreError that says the body failed, not the store. */
async function nextChunk(iterator: AsyncIterator<Uint8Array>, key: string) {
  try {
    return await iterator.next();
  } catch (err) {
    if (StoreError.is(err) || (err as Error | null)?.name === 'AbortError') throw err;
    const detail = `reading the body failed: ${(err as Error | null)?.message ?? String(err)}`;
    throw new StoreError('Internal', detail, { operation: 'put', key, cause: err });
  }
}
