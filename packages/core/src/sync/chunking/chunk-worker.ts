import { createHash } from 'node:crypto';
import { closeSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { StoreError } from '../../errors.js';
import { fsErrorCode } from './fs-error.js';
import { WasmGear } from './gear-wasm.js';
import { chunkParams } from './options.js';
import type { HashReply, HashTask, ScanFailure, ScanReply, ScanTask } from './protocol.js';
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

parentPort?.on('message', (task: ScanTask | HashTask) => {
  try {
    const { reply, transfer } = task.kind === 'hash' ? hash(task) : scan(task);
    parentPort?.postMessage(reply, transfer);
  } catch (err) {
    const code = StoreError.is(err) ? err.code : fsErrorCode(err);
    const failure: ScanFailure = { error: { code, message: (err as Error).message } };
    parentPort?.postMessage(failure);
  }
});
