import { setImmediate } from 'node:timers/promises';
import { type PutResult, StoreError } from '@ckpt/core';
import {
  abortable,
  type BlockReader,
  type HeadBlock,
  type PartBuffers,
  readAll,
  WRITE_PIECE,
} from '@ckpt/core/backend';
import { CRC32C, type File, type FileMetadata, type PreconditionOptions } from '@google-cloud/storage';
import { Watchdog, withDeadline } from './watchdog.js';

/** One resumable upload: where it goes and how it is sent. */
export interface ResumableJob {
  file: File;
  /** The object's metadata, sent when the session starts. */
  metadata: FileMetadata;
  preconditions: PreconditionOptions | undefined;
  /** The exact length the caller declared, if any. */
  size: number | undefined;
  /** The key the caller used, for messages. */
  key: string;
  signal: AbortSignal | undefined;
  timeoutMs: number;
}

/** The largest answer to a chunk that is read: object metadata or an error, never more. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Sends `first` (blocks {@link readHead} read) and the rest of `reader` through a GCS resumable
 * upload session, one chunk per request, driven here rather than by the SDK's write stream,
 * which neither sends the object's checksum with the last chunk nor stops its caller from
 * writing ahead of the chunk in flight. Each chunk is read into a buffer of `buffers` and the
 * next one is read before it is sent, so the last chunk is known as such: it carries the total
 * size and the CRC32C of the whole object (`X-Goog-Hash`), and GCS refuses to make an object
 * whose bytes do not match it. Memory: two chunks, whatever the object's size. A 308 that
 * acknowledges part of a chunk gets the rest sent again. Any failure, a wrong length or the
 * caller's signal stops before the last chunk: no object appears (the session expires on its
 * own). The session URI authorises the chunks by itself: they go out with no credentials.
 */
export async function uploadResumable(
  job: ResumableJob,
  first: HeadBlock[],
  reader: BlockReader,
  buffers: PartBuffers,
): Promise<PutResult> {
  const { file, signal, key, size } = job;
  const [uri] = await abortable(
    withDeadline(
      file.createResumableUpload({
        metadata: job.metadata,
        ...(job.preconditions ? { preconditionOpts: job.preconditions } : {}),
      }),
      job.timeoutMs,
    ),
    signal,
    'put',
    key,
  );
  const pending = first.slice();
  const next = async (): Promise<HeadBlock | undefined> => {
    const head = pending.shift();
    if (head) return head;
    const pooled = buffers.take();
    const bytes = await reader.readInto(pooled, signal);
    if (bytes.length > 0) return { bytes, pooled };
    buffers.give(pooled);
    return undefined;
  };
  // the checksum runs a chunk ahead: the next chunk's bytes are added while this one is sent
  const crc32c = new CRC32C();
  let chunk = await next();
  if (chunk) await addInPieces(crc32c, chunk.bytes);
  let offset = 0;
  while (chunk) {
    const following = await next();
    const end = offset + chunk.bytes.length;
    // the last chunk makes the object: a body longer or shorter than declared stops before it
    const read = end + (following?.bytes.length ?? 0);
    if (size !== undefined && (read > size || (!following && read !== size))) {
      const got = read > size ? `more than ${size}` : String(read);
      throw new StoreError('Integrity', `body has ${got} bytes, expected ${size}`, { operation: 'put', key });
    }
    const [object] = await Promise.all([
      sendChunk(uri, chunk.bytes, offset, following ? undefined : crc32c.toString(), job),
      following && addInPieces(crc32c, following.bytes),
    ]);
    if (chunk.pooled) buffers.give(chunk.pooled);
    offset = end;
    chunk = following;
    if (object) return await made(object, crc32c.toString(), offset, job);
  }
  throw new StoreError('Internal', 'a resumable upload ended without its last chunk', {
    operation: 'put',
    key,
  });
}

/**
 * Adds `bytes` to `crc32c` a piece at a time, letting I/O run between pieces: the SDK's CRC32C is
 * plain JavaScript, slow enough to hold up a chunk in flight if it ran in one go.
 */
async function addInPieces(crc32c: CRC32C, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length; at += WRITE_PIECE) {
    crc32c.update(bytes.subarray(at, at + WRITE_PIECE));
    await setImmediate();
  }
}

/**
 * Sends bytes `offset…` of the object, the last ones when `crc32c` (the whole object's) is given,
 * until the server holds them all. Resolves to the object's metadata once the last chunk made it.
 */
async function sendChunk(
  uri: string,
  bytes: Buffer,
  offset: number,
  crc32c: string | undefined,
  job: ResumableJob,
): Promise<FileMetadata | undefined> {
  const end = offset + bytes.length;
  let from = offset;
  let progressed = true;
  for (;;) {
    const headers: Record<string, string> = {
      'content-range': `bytes ${from}-${end - 1}/${crc32c === undefined ? '*' : end}`,
      ...(crc32c === undefined ? {} : { 'x-goog-hash': `crc32c=${crc32c}` }),
    };
    const answer = await put(uri, bytes.subarray(from - offset), headers, job);
    if (answer.status === 308) {
      // what the server holds so far; it may have kept only part of what was sent
      const range = answer.headers.get('range');
      const held = range === null ? 0 : Number(/^bytes=0-(\d+)$/.exec(range)?.[1] ?? Number.NaN) + 1;
      if (held === end && crc32c === undefined) return undefined;
      const what = `the server answered bytes ${from}-${end - 1} with 308 and Range ${range ?? '(none)'}`;
      if (!(held >= from && held < end))
        throw new StoreError('Internal', what, { operation: 'put', key: job.key });
      if (held === from && !progressed) {
        throw new StoreError('Unavailable', `${what} twice`, { operation: 'put', key: job.key });
      }
      progressed = held > from;
      from = held;
      continue;
    }
    if (answer.status >= 200 && answer.status < 300) {
      if (crc32c !== undefined) return JSON.parse(answer.body) as FileMetadata;
      throw new StoreError('Internal', `the server made the object at byte ${end - 1}, before its end`, {
        operation: 'put',
        key: job.key,
      });
    }
    throw apiError(answer.status, answer.body);
  }
}

/**
 * The result of an upload the server finalised. A server that made an object whose CRC32C differs
 * from the bytes sent has ignored `X-Goog-Hash` (GCS refuses them): the object is removed again
 * (only that generation) and the put fails `Integrity`.
 */
async function made(
  object: FileMetadata,
  crc32c: string,
  size: number,
  job: ResumableJob,
): Promise<PutResult> {
  const { generation } = object;
  if (generation === undefined || generation === null) {
    throw new StoreError('Internal', 'the upload answered no generation', { operation: 'put', key: job.key });
  }
  if (typeof object.crc32c === 'string' && object.crc32c !== crc32c) {
    await withDeadline(job.file.delete({ ifGenerationMatch: generation }), job.timeoutMs).catch(() => {});
    throw new StoreError(
      'Integrity',
      `the server made an object whose CRC32C ${object.crc32c} is not that of the bytes sent (${crc32c})`,
      { operation: 'put', key: job.key },
    );
  }
  return { version: String(generation), size };
}

/**
 * One PUT of `body` to the session. The body is handed over a piece at a time, each piece a sign
 * of life for the idle timeout, as is the answer's arrival.
 */
async function put(
  uri: string,
  body: Buffer,
  headers: Record<string, string>,
  job: ResumableJob,
): Promise<{ status: number; headers: Headers; body: string }> {
  const silent = new AbortController();
  const watchdog = new Watchdog(job.timeoutMs, (error) => silent.abort(error));
  const signal = job.signal ? AbortSignal.any([job.signal, silent.signal]) : silent.signal;
  let at = 0;
  const pieces = new ReadableStream<Uint8Array>({
    pull(controller) {
      watchdog.poke();
      if (at >= body.length) return controller.close();
      controller.enqueue(body.subarray(at, at + WRITE_PIECE));
      at += WRITE_PIECE;
    },
  });
  try {
    const response = await fetch(uri, {
      method: 'PUT',
      headers: { ...headers, 'content-length': String(body.length) },
      body: pieces,
      duplex: 'half',
      signal,
    } as RequestInit);
    watchdog.poke();
    const answer = response.body ? await readAll(response.body, MAX_ANSWER_BYTES, 'upload answer') : '';
    return { status: response.status, headers: response.headers, body: answer.toString() };
  } catch (error) {
    // fetch wraps a network failure (its errno code in `cause`) in a TypeError
    throw error instanceof TypeError && error.cause instanceof Error ? error.cause : error;
  } finally {
    watchdog.stop();
  }
}

/** An error shaped like the SDK's `ApiError`, from GCS's JSON error answer, for the error mapping. */
function apiError(status: number, body: string): Error {
  let error: { message?: string; errors?: unknown[] } = {};
  try {
    error = (JSON.parse(body) as { error?: typeof error }).error ?? {};
  } catch {
    // not JSON: the status says it
  }
  const message = error.message ?? (body.split('\n')[0]?.slice(0, 300) || `HTTP ${status}`);
  return Object.assign(new Error(message), { code: status, errors: error.errors ?? [] });
}
