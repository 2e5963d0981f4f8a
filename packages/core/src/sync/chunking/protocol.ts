import type { OpenJob } from '../../crypto/open-job.js';
import type { StoreErrorCode } from '../../errors.js';
import type { Finish } from '../file-handles.js';
import type { FileStamp } from '../stamp.js';
import type { ScanRange } from './scan.js';
import type { ChunkingOptions } from './types.js';

/** A scan request sent to a chunk worker: read `path`'s scan window, scan `range`, hash. */
export interface ScanTask {
  kind: 'scan';
  path: string;
  /** The size the caller saw; the scan covers `[0, fileSize)` only. */
  fileSize: number;
  range: Omit<ScanRange, 'joinAt'> & { joinAt?: number[] };
  chunking: ChunkingOptions;
  /** Transfer the bytes read (an ArrayBuffer holding file bytes from `bufStart`) with the answer. */
  withData: boolean;
  /** With `withData`: a recycled buffer to read into (transferred), when large enough. */
  buffer?: ArrayBuffer;
  /** With `withData`: the size to allocate when no usable buffer came with the task. */
  bufferSize: number;
}

/** A worker's answer: the extents in file order (`hashes[i] === null` for zero runs). */
export interface ScanReply {
  offsets: number[];
  lengths: number[];
  hashes: (string | null)[];
  /** Bytes read from the file (window size), for statistics. */
  bytesRead: number;
  /** With `withData`: the bytes read, holding file offsets `[bufStart, bufStart + byteLength)`. */
  buffer?: ArrayBuffer;
  bufStart: number;
}

/** A worker's failure, turned back into a StoreError by the pool (`key`: the file, when one failed). */
export interface ScanFailure {
  /** A failure in the worker; `errno` is the system error's code, when it was one. */
  error: { code: StoreErrorCode; message: string; key?: string; retryable: boolean; errno?: string };
}

/** A hash request: SHA-256 of extents of `buffer` (transferred there and back, or shared). */
export interface HashTask {
  kind: 'hash';
  buffer: ArrayBuffer | SharedArrayBuffer;
  offsets: number[];
  lengths: number[];
}

/** The answer to a {@link HashTask}: the buffer back, and one lower-case hex hash per extent. */
export interface HashReply {
  buffer: ArrayBuffer | SharedArrayBuffer;
  hashes: string[];
}

/** A read request: small files read whole, back to back into one new buffer, each hashed. */
export interface ReadTask {
  kind: 'read';
  paths: string[];
  /** The sizes the caller saw: at most this much of each file is read. */
  sizes: number[];
  /** A buffer to read into (transferred), used when large enough. */
  buffer?: ArrayBuffer;
  /** The size to allocate when no usable buffer came with the task. */
  bufferSize: number;
}

/** The answer to a {@link ReadTask}: the bytes (transferred), and per file what was read. */
export interface ReadReply {
  buffer: ArrayBuffer;
  /** Bytes read from each file, at `sizes` offsets: fewer than its size when it shrank. */
  lengths: number[];
  /** SHA-256 of each file's bytes, lower-case hex; null when they are all zero. */
  hashes: (string | null)[];
  /** Each file's stamp right after it was read (of the open file). */
  stamps: FileStamp[];
}

/** A file to create whole: its bytes are extents of a shared buffer, then it is finished. */
export interface NewFile extends Finish {
  path: string;
  /** `length` bytes at buffer offset `at` go to file offset `offset`. */
  writes: { offset: number; at: number; length: number }[];
}

/** A write request: each file created (owner-only, never through a symlink), written, finished. */
export interface WriteTask {
  kind: 'write';
  buffer: SharedArrayBuffer;
  files: NewFile[];
}

/** The answer to a {@link WriteTask}: each file's stamp as left. */
export interface WriteReply {
  stamps: FileStamp[];
}

/** A decryption of an encrypted store's read (see `OpenJob`). */
export type OpenTask = OpenJob & { kind: 'open' };

/** The answer to an {@link OpenTask}: the first block that did not decrypt (-1: none). */
export interface OpenReply {
  failedBlock: number;
}
