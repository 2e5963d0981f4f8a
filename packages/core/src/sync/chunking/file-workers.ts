import { stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import type { BlockOpeners, OpenJob } from '../../crypto/open-job.js';
import { errnoCode } from '../../errno.js';
import { abortable, StoreError, throwIfAborted } from '../../errors.js';
import { WorkerPool, type WorkerRunOptions } from '../../worker-pool.js';
import type { FileStamp } from '../stamp.js';
import { BufferRecycler } from './buffer-recycler.js';
import { chunkParams, DEFAULT_CHUNKING, PAGE_SIZE } from './options.js';
import type {
  HashReply,
  HashTask,
  NewFile,
  OpenReply,
  OpenTask,
  ReadReply,
  ReadTask,
  ScanFailure,
  ScanReply,
  ScanTask,
  WriteReply,
  WriteTask,
} from './protocol.js';
import { type ScanRange, scanWindow } from './scan.js';
import { chunkEnd, findJoin, ZeroRunJoiner } from './stitch.js';
import type { Chunk, ChunkingOptions } from './types.js';

/** Options of {@link FileWorkers}. */
export interface FileWorkersOptions {
  /** Worker threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Default: {@link DEFAULT_CHUNKING}. */
  chunking?: ChunkingOptions;
  /**
   * Bytes of a file one worker scans per task, a multiple of 4096. Default 4 MiB: each segment
   * also scans about `stitchWindow` past its end, so smaller segments cost more CPU.
   */
  segmentSize?: number;
  /**
   * How far past its segment a scan goes so that the next segment's scan can join it.
   * Default `8 × avgSize`; joins that miss cost a sequential rescan, never a wrong result.
   */
  stitchWindow?: number;
}

/** Options of {@link FileWorkers.chunkFile}. */
export interface ChunkFileOptions {
  /** Attach each data chunk's bytes (transferred from the worker, not copied). */
  withData?: boolean;
  signal?: AbortSignal;
  /**
   * Bytes of the file read ahead of what the consumer has taken, at most. Default 32 MiB. With
   * `withData`, the read buffers (one per scan, a segment plus its margins) count, the one
   * whose chunks the consumer holds included.
   */
  readAhead?: number;
}

/** One file read by {@link FileWorkers.readFiles}. */
export interface WholeFile {
  /** The bytes read: a view of a buffer shared with the other files of the call. */
  data: Uint8Array;
  /** SHA-256 of `data`, lower-case hex; null when every byte is zero. */
  hash: string | null;
  /** The file's stamp right after it was read. */
  stamp: FileStamp;
}

/** Counters since the pool was created (for benchmarks and tests). */
export interface ChunkerPoolStats {
  /** Scan tasks run, rescans included. */
  scans: number;
  /** Sequential rescans after a segment's scan found no boundary in common with the previous one. */
  rescans: number;
  /** Bytes read from files by workers (segments overlap a little, so slightly above the file sizes). */
  bytesRead: number;
}

const MiB = 1024 * 1024;
const noop = () => {};

/** One scan's extents, and the buffer their `data` views point into (with `withData`). */
interface ScanResult {
  chunks: Chunk[];
  buffer?: ArrayBuffer;
}

/**
 * The worker threads that do the engine's file work off the main thread: chunking files (with
 * exactly the result of {@link chunkBuffer} on the whole file, whatever the number of threads),
 * hashing chunks, reading small files in batches, writing the files of a pull, and decrypting
 * an encrypted store's reads (`OpenJob`).
 *
 * A file is cut into segments scanned in parallel. A segment's scan assumes a chunk starts at
 * its first byte, and runs a little past its end. The true extent list is then stitched: after
 * the first offset where the previous segment's extension and the next segment's scan both have
 * a boundary, the two agree (min-size skipping and the masks re-synchronise them within a few
 * chunks; zero runs and segment edges inside them are shared boundaries). When they do not meet,
 * the true list is rescanned from where it is known until it meets the next scan. Inside a long
 * run of one repeated byte or page, scans never meet: such stretches cost a sequential rescan.
 *
 * Call {@link close} when done. Idle workers do not keep the process alive.
 *
 * @example
 * ```ts
 * const pool = new FileWorkers();
 * for await (const batch of pool.chunkFile('pages-1.img', { withData: true })) {
 *   for (const chunk of batch) if (chunk.hash) await upload(chunk.hash, chunk.data!);
 * }
 * await pool.close();
 * ```
 */
export class FileWorkers implements BlockOpeners {
  readonly #pool: WorkerPool<
    ScanTask | HashTask | ReadTask | WriteTask | OpenTask,
    ScanReply | HashReply | ReadReply | WriteReply | OpenReply | ScanFailure
  >;
  readonly #chunking: ChunkingOptions;
  readonly #segmentSize: number;
  readonly #stitchWindow: number;
  readonly #stats: ChunkerPoolStats = { scans: 0, rescans: 0, bytesRead: 0 };
  readonly #buffers: BufferRecycler;

  constructor(options: FileWorkersOptions = {}) {
    const chunking = { ...(options.chunking ?? DEFAULT_CHUNKING) };
    const p = chunkParams(chunking);
    const threads = options.threads ?? availableParallelism();
    this.#stitchWindow = options.stitchWindow ?? 8 * p.avgSize;
    this.#segmentSize = options.segmentSize ?? 4 * MiB;
    const bad = (key: string, detail: string) =>
      new StoreError('InvalidArgument', detail, { operation: 'file workers', key });
    if (!Number.isSafeInteger(threads) || threads < 1) throw bad('threads', 'must be a positive integer');
    if (!Number.isSafeInteger(this.#stitchWindow) || this.#stitchWindow < 1) {
      throw bad('stitchWindow', 'must be a positive integer');
    }
    const minSegment = 2 * (this.#stitchWindow + p.maxSize);
    if (!Number.isSafeInteger(this.#segmentSize) || this.#segmentSize % PAGE_SIZE !== 0) {
      throw bad('segmentSize', 'must be a multiple of 4096');
    }
    if (this.#segmentSize < minSegment)
      throw bad('segmentSize', `must be at least 2 × (stitchWindow + maxSize) = ${minSegment}`);
    this.#chunking = chunking;
    this.#pool = new WorkerPool(new URL('./chunk-worker.js', import.meta.url), {
      threads,
      name: 'chunk worker',
    });
    const S = this.#segmentSize;
    const widest = scanWindow(
      { start: S, segmentEnd: 2 * S, stitchEnd: 2 * S + this.#stitchWindow },
      4 * S,
      p,
    );
    // the free list never holds more than were in use at once (read-ahead plus the tail), and
    // empties after a second unused
    this.#buffers = new BufferRecycler(widest.end - widest.start, 16);
  }

  /** Bytes of a file one scan covers: files up to this size take one worker task. */
  get segmentSize(): number {
    return this.#segmentSize;
  }

  /** A copy of the counters. */
  get stats(): ChunkerPoolStats {
    return { ...this.#stats };
  }

  /**
   * Chunks one file, yielding batches of extents in file order that together cover it exactly.
   * With `withData`, each data chunk carries its bytes: a view into a read buffer shared with its
   * neighbours, valid until the next batch is requested. The buffer is then reused, and the
   * view detached (`length` 0, never other bytes): copy what you keep longer.
   * Never more than about `readAhead` bytes are read ahead of the batches taken.
   * The file must not change meanwhile (a shrink fails with `Integrity`). Errors: `NotFound`,
   * `PermissionDenied`, `InvalidArgument` (not a regular file), `Aborted` (signal or closed pool).
   */
  chunkFile(path: string, options: ChunkFileOptions = {}): AsyncIterable<Chunk[]> {
    return this.#chunkFile(path, options);
  }

  /**
   * SHA-256 (lower-case hex) of each extent of `buffer`, computed on a worker. An `ArrayBuffer`
   * is transferred there and back: the caller's is detached, and the one returned holds the same
   * bytes. A `SharedArrayBuffer` is read in place (the caller may fill other parts of it
   * meanwhile) and returned as is. Fails with `Aborted` once the pool is closed.
   */
  async hash<B extends ArrayBuffer | SharedArrayBuffer>(
    buffer: B,
    extents: readonly { offset: number; length: number }[],
  ): Promise<{ buffer: B; hashes: string[] }> {
    const task: HashTask = {
      kind: 'hash',
      buffer,
      offsets: extents.map((x) => x.offset),
      lengths: extents.map((x) => x.length),
    };
    const transfer = buffer instanceof ArrayBuffer ? [buffer] : [];
    const reply = await this.#ask<HashReply>(task, 'hash', { transfer });
    return { buffer: reply.buffer as B, hashes: reply.hashes };
  }

  /**
   * Starts the worker threads now, so that their start-up (tens of milliseconds each) overlaps
   * the caller's other work instead of delaying the first chunk. Idle, they keep nothing alive.
   */
  warm(): void {
    this.#pool.warm();
  }

  /**
   * Reads small files whole on a worker, each with the SHA-256 of its bytes (null when all zero)
   * and its stamp right after the read, so that the caller can tell whether it changed since it
   * was listed. At most `size` bytes of each are read (a file that shrank gives fewer). The views
   * share one buffer. Errors: `NotFound`, `PermissionDenied`, `InvalidArgument` (not a regular
   * file, or a symbolic link now), each naming the file; `Aborted` (signal or closed pool).
   * `buffer` (transferred) is read into when large enough, else one of at least `bufferSize`
   * bytes is allocated: give the `data.buffer` of an earlier call back once done with it.
   */
  async readFiles(
    files: readonly { path: string; size: number }[],
    options: { signal?: AbortSignal; buffer?: ArrayBuffer; bufferSize?: number } = {},
  ): Promise<WholeFile[]> {
    const { buffer, bufferSize = 0 } = options;
    const task: ReadTask = {
      kind: 'read',
      paths: files.map((f) => f.path),
      sizes: files.map((f) => f.size),
      buffer,
      bufferSize,
    };
    const run = { cancelled: () => options.signal?.aborted === true, transfer: buffer ? [buffer] : [] };
    const reply = await this.#ask<ReadReply>(task, 'read', run);
    let at = 0;
    return files.map((file, i) => {
      const data = new Uint8Array(reply.buffer, at, reply.lengths[i]);
      at += file.size;
      return { data, hash: reply.hashes[i] ?? null, stamp: reply.stamps[i]! };
    });
  }

  /**
   * Creates files whole on a worker, from extents of `buffer` (read in place; leave those bytes
   * alone until this resolves): each is opened with `O_CREAT | O_NOFOLLOW`, owner-only, written,
   * then given its length (when `size` is set), mode and times. Returns each file's stamp as
   * left. Six system calls a file and no round trip per call: for many small files that is
   * several times faster than the same calls from the main thread. Errors: those of the file
   * system, naming the file (earlier files of the call stay written); `Aborted` (closed pool).
   */
  async writeFiles(buffer: SharedArrayBuffer, files: NewFile[]): Promise<FileStamp[]> {
    return (await this.#ask<WriteReply>({ kind: 'write', buffer, files }, 'write')).stamps;
  }

  /**
   * Decrypts a read of an encrypted store on a worker (see `OpenJob`): the first block that does
   * not decrypt, or -1. Fails with `Aborted` once the pool is closed.
   */
  async open(job: OpenJob): Promise<number> {
    return (await this.#ask<OpenReply>({ kind: 'open', ...job }, 'decrypt')).failedBlock;
  }

  /**
   * Runs `task` on a worker; a failure the worker reports becomes a `StoreError` of `operation`,
   * naming `key` or else the file the worker named. With `key`, the pool's own failures (closed,
   * cancelled) name it too.
   */
  async #ask<R>(
    task: ScanTask | HashTask | ReadTask | WriteTask | OpenTask,
    operation: string,
    options: WorkerRunOptions = {},
    key?: string,
  ): Promise<R> {
    let reply: unknown;
    try {
      reply = await this.#pool.run(task, options);
    } catch (err) {
      if (key === undefined || !StoreError.is(err)) throw err;
      throw new StoreError(err.code, err.message, { operation, key, cause: err });
    }
    const failure = (reply as Partial<ScanFailure>).error;
    if (failure) {
      const { code, message, retryable, errno } = failure;
      const cause = errno ? Object.assign(new Error(message), { code: errno }) : undefined;
      throw new StoreError(code, message, { operation, key: key ?? failure.key, retryable, cause });
    }
    return reply as R;
  }

  /** Stops the workers; running `chunkFile` iterations fail with `Aborted`. */
  close(): Promise<void> {
    this.#buffers.clear();
    return this.#pool.close();
  }

  async *#chunkFile(path: string, options: ChunkFileOptions): AsyncGenerator<Chunk[]> {
    const { withData = false, signal, readAhead = 32 * MiB } = options;
    if (!(readAhead > 0))
      throw new StoreError('InvalidArgument', 'must be positive', { operation: 'chunk', key: 'readAhead' });
    throwIfAborted(signal, 'chunk', path);
    const size = await fileSize(path);
    const S = this.#segmentSize;
    const segments = Math.ceil(size / S);
    // scans in flight: with data, each holds a read buffer, and the consumer holds one more
    const inFlight = withData
      ? Math.max(1, Math.floor(readAhead / this.#buffers.size) - 1)
      : Math.max(1, Math.floor(readAhead / S));
    const segment = (k: number): ScanRange => {
      const segmentEnd = Math.min(size, (k + 1) * S);
      return { start: k * S, segmentEnd, stitchEnd: Math.min(size, segmentEnd + this.#stitchWindow) };
    };
    let stopped = false;
    const scan = (range: ScanRange, urgent = false) =>
      this.#scan(path, size, range, withData, {
        urgent,
        cancelled: () => stopped || signal?.aborted === true,
      });
    const scans = new Map<number, Promise<ScanResult>>();
    /** Buffers behind scans taken so far, until no chunk left to yield points into them. */
    const held = new Set<ArrayBuffer>();
    const take = (result: ScanResult) => {
      if (result.buffer) held.add(result.buffer);
      return result.chunks;
    };
    const release = (keep: readonly Chunk[]) => {
      const needed = new Set(keep.map((c) => c.data?.buffer));
      for (const buffer of held) {
        if (needed.has(buffer)) continue;
        held.delete(buffer);
        this.#buffers.give(buffer);
      }
    };
    const joiner = new ZeroRunJoiner();
    let from = 0;
    let tail: Chunk[] = [];
    try {
      for (let k = 0; k < segments; k++) {
        for (let next = k + scans.size; next < Math.min(segments, k + inFlight); next++) {
          const pending = scan(segment(next));
          pending.catch(noop);
          scans.set(next, pending);
        }
        const found = take(await abortable(scans.get(k) as Promise<ScanResult>, signal, 'chunk', path));
        scans.delete(k);
        const range = segment(k);
        const rescan = async (again: ScanRange) => take(await scan(again, true));
        const chain = k === 0 ? found : await this.#join(from, tail, found, range, size, rescan);
        const last = k === segments - 1;
        let split = last ? chain.length : chain.findIndex((c) => chunkEnd(c) > range.segmentEnd);
        if (split < 0) split = chain.length;
        for (let i = 0; i < split; i++) joiner.push(chain[i] as Chunk);
        if (split > 0) from = chunkEnd(chain[split - 1] as Chunk);
        tail = chain.slice(split);
        const batch = last ? joiner.finish() : joiner.take();
        if (batch.length > 0) yield batch;
        // only the tail can still point into a buffer (held-back zero extents have no data)
        release(tail);
      }
    } finally {
      stopped = true;
      release([]);
    }
  }

  /** The true extents from `from` through segment `range`'s scan `found`, rescanning if needed. */
  async #join(
    from: number,
    tail: Chunk[],
    found: Chunk[],
    range: ScanRange,
    size: number,
    rescan: (range: ScanRange) => Promise<Chunk[]>,
  ): Promise<Chunk[]> {
    const join = findJoin(from, tail, found);
    if (join) return [...tail.slice(0, join.keep), ...found.slice(join.resume)];
    const known = tail.length > 0 ? chunkEnd(tail[tail.length - 1] as Chunk) : from;
    if (known >= size) return tail;
    this.#stats.rescans++;
    const joinAt = new Set(found.filter((c) => c.offset > known).map((c) => c.offset));
    const again = await rescan({ ...range, start: known, joinAt });
    const stop = again.length > 0 ? chunkEnd(again[again.length - 1] as Chunk) : known;
    const resume = found.findIndex((c) => c.offset === stop);
    return [...tail, ...again, ...(resume >= 0 ? found.slice(resume) : [])];
  }

  async #scan(
    path: string,
    fileSize: number,
    range: ScanRange,
    withData: boolean,
    options: { urgent: boolean; cancelled: () => boolean },
  ): Promise<ScanResult> {
    const { joinAt, ...rest } = range;
    const buffer = withData ? this.#buffers.take() : undefined;
    const task: ScanTask = {
      kind: 'scan',
      path,
      fileSize,
      range: { ...rest, joinAt: joinAt && [...joinAt] },
      chunking: this.#chunking,
      withData,
      buffer,
      bufferSize: this.#buffers.size,
    };
    this.#stats.scans++;
    const run = { ...options, transfer: buffer ? [buffer] : [] };
    const reply = await this.#ask<ScanReply>(task, 'chunk', run, path);
    this.#stats.bytesRead += reply.bytesRead;
    const { bufStart } = reply;
    const chunks = reply.offsets.map((offset, i) => {
      const length = reply.lengths[i] as number;
      const hash = reply.hashes[i] ?? null;
      const chunk: Chunk = { offset, length, hash };
      if (reply.buffer && hash !== null) chunk.data = new Uint8Array(reply.buffer, offset - bufStart, length);
      return chunk;
    });
    return { chunks, buffer: reply.buffer };
  }
}

/** The size of the regular file at `path`. */
async function fileSize(path: string): Promise<number> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch (err) {
    throw new StoreError(errnoCode(err) ?? 'Internal', (err as Error).message, {
      operation: 'chunk',
      key: path,
      cause: err,
    });
  }
  if (!info.isFile())
    throw new StoreError('InvalidArgument', 'not a regular file', { operation: 'chunk', key: path });
  return info.size;
}
