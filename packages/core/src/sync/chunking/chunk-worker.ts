import { createHash } from 'node:crypto';
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  futimesSync,
  openSync,
  readSync,
} from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { runOpenJob } from '../../crypto/open-job.js';
import { errnoError, errnoOf } from '../../errno.js';
import { StoreError } from '../../errors.js';
import { writeAllSync } from '../../write-all.js';
import { WRITE_FLAGS } from '../file-handles.js';
import { fileTime } from '../file-time.js';
import { stampOf } from '../stamp.js';
import { isAllZero } from '../zero.js';
import { WasmGear } from './gear-wasm.js';
import { chunkParams } from './options.js';
import type {
  HashReply,
  HashTask,
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
import { hashExtents, scanExtents, scanWindow } from './scan.js';

/** Reused read buffer when the bytes are not sent back (they are transferred otherwise). */
let scratch = new Uint8Array(0);
/** This thread's cut-point search (WebAssembly), created on the first scan. */
let gear: WasmGear | undefined;

function scan(task: ScanTask): { reply: ScanReply; transfer: ArrayBuffer[] } {
  const p = chunkParams(task.chunking);
  const range = { ...task.range, joinAt: task.range.joinAt && new Set(task.range.joinAt) };
  const window = scanWindow(range, task.fileSize, p);
  const size = window.end - window.start;
  let buf: Uint8Array;
  if (task.withData) {
    const reuse = task.buffer && task.buffer.byteLength >= size;
    const fresh = () => new ArrayBuffer(size < task.bufferSize / 2 ? size : Math.max(size, task.bufferSize));
    buf = new Uint8Array(reuse ? (task.buffer as ArrayBuffer) : fresh(), 0, size);
  } else {
    if (scratch.length < size) scratch = new Uint8Array(size);
    buf = scratch.subarray(0, size);
  }
  readRange(task.path, window.start, buf);
  gear ??= new WasmGear();
  gear.begin(buf);
  const extents = scanExtents(buf, window.start, task.fileSize, range, p, (b, start, end, params, ahead) =>
    (gear as WasmGear).cutPoint(b, start, end, params, ahead),
  );
  const reply: ScanReply = {
    offsets: extents.map((x) => x.offset),
    lengths: extents.map((x) => x.length),
    hashes: hashExtents(buf, window.start, extents),
    bytesRead: size,
    bufStart: window.start,
  };
  if (!task.withData) return { reply, transfer: [] };
  reply.buffer = buf.buffer as ArrayBuffer;
  return { reply, transfer: [reply.buffer] };
}

function hash(task: HashTask): { reply: HashReply; transfer: ArrayBuffer[] } {
  const bytes = new Uint8Array(task.buffer);
  const hashes = task.offsets.map((offset, i) =>
    createHash('sha256')
      .update(bytes.subarray(offset, offset + (task.lengths[i] as number)))
      .digest('hex'),
  );
  const transfer = task.buffer instanceof ArrayBuffer ? [task.buffer] : [];
  return { reply: { buffer: task.buffer, hashes }, transfer };
}

/**
 * Reads each file whole into one buffer and hashes it. Opened without following a symlink and
 * without blocking, so that a path swapped for a link or a FIFO since the caller listed it fails
 * instead of reading elsewhere or hanging.
 */
function read(task: ReadTask): { reply: ReadReply; transfer: ArrayBuffer[] } {
  const total = task.sizes.reduce((sum, size) => sum + size, 0);
  const reuse = task.buffer && task.buffer.byteLength >= total;
  const buffer = reuse ? (task.buffer as ArrayBuffer) : new ArrayBuffer(Math.max(total, task.bufferSize));
  const reply: ReadReply = { buffer, lengths: [], hashes: [], stamps: [] };
  let at = 0;
  task.paths.forEach((path, i) => {
    const size = task.sizes[i] as number;
    const fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      const st = fstatSync(fd, { bigint: true });
      if (!st.isFile())
        throw Object.assign(new StoreError('InvalidArgument', 'not a regular file'), { path });
      const view = new Uint8Array(buffer, at, size);
      let done = 0;
      for (let n = -1; done < size && n !== 0; done += n) n = readSync(fd, view, done, size - done, done);
      const data = view.subarray(0, done);
      reply.lengths.push(done);
      reply.hashes.push(isAllZero(data) ? null : createHash('sha256').update(data).digest('hex'));
      reply.stamps.push(stampOf(fstatSync(fd, { bigint: true })));
    } finally {
      closeSync(fd);
    }
    at += size;
  });
  return { reply, transfer: [buffer] };
}

/**
 * Creates each file, writes its extents of the shared buffer, sets its length, mode and times,
 * and returns its stamp: six system calls a file, without a round trip to the main thread.
 */
function write(task: WriteTask): { reply: WriteReply; transfer: ArrayBuffer[] } {
  const bytes = new Uint8Array(task.buffer);
  const stamps = task.files.map((file) => {
    try {
      const fd = openSync(file.path, WRITE_FLAGS, 0o600);
      try {
        for (const { offset, at, length } of file.writes) writeAllSync(fd, bytes, at, length, offset);
        if (file.size !== undefined) ftruncateSync(fd, file.size);
        fchmodSync(fd, file.mode);
        const time = fileTime(file.mtimeMs);
        futimesSync(fd, time, time);
        return stampOf(fstatSync(fd, { bigint: true }));
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      throw Object.assign(err as Error, { path: file.path }); // calls on a descriptor name no file
    }
  });
  return { reply: { stamps }, transfer: [] };
}

/** Fills `buf` with the file's bytes from `position`; a file that shrank is an Integrity error. */
function readRange(path: string, position: number, buf: Uint8Array): void {
  const fd = openSync(path, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, position + done);
      if (n === 0)
        throw new StoreError('Integrity', `file shrank while being chunked (no bytes at ${position + done})`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

function handle(task: ScanTask | HashTask | ReadTask | WriteTask | OpenTask): {
  reply: unknown;
  transfer: ArrayBuffer[];
} {
  switch (task.kind) {
    case 'hash':
      return hash(task);
    case 'read':
      return read(task);
    case 'write':
      return write(task);
    case 'open':
      return { reply: { failedBlock: runOpenJob(task) } satisfies OpenReply, transfer: [] };
    default:
      return scan(task);
  }
}

parentPort?.on('message', (task: ScanTask | HashTask | ReadTask | WriteTask | OpenTask) => {
  try {
    const { reply, transfer } = handle(task);
    parentPort?.postMessage(reply, transfer);
  } catch (err) {
    const { message, path: key } = err as NodeJS.ErrnoException; // fs errors name their file
    const errno = errnoOf(err);
    const mapped = StoreError.is(err) ? err : errnoError(err, 'chunk', key);
    const code = mapped?.code ?? 'Internal';
    const failure: ScanFailure = {
      error: { code, message, key, retryable: mapped?.retryable ?? false, errno },
    };
    parentPort?.postMessage(failure);
  }
});
