import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { type ByteRange, StoreError } from '@ckpt/core';
import { abortError } from '@ckpt/core/backend';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A stream of exactly `length` bytes of an open file from `offset`. Reading through the handle
 * keeps the bytes of the object as it was when opened, even if a put renames a new file over it.
 * If the file shrinks under us (truncated in place), the stream errors with `Integrity`: it never
 * ends early. The stream owns the handle and closes it when it ends or is destroyed (after any
 * read in progress: nothing is read into `into` once it has closed); `signal` destroys it with
 * `Aborted`. With `into` (at least `length` bytes), the bytes are read into it and the stream
 * yields views of it.
 */
export function rangeStream(
  handle: FileHandle,
  range: { offset: number; length: number },
  options: { key: string; signal?: AbortSignal; into?: Uint8Array },
): Readable {
  const { key, signal } = options;
  const into = options.into && options.into.length >= range.length ? options.into : undefined;
  let position = range.offset;
  let remaining = range.length;
  const stream = new Readable({
    highWaterMark: READ_CHUNK_BYTES,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const size = Math.min(READ_CHUNK_BYTES, remaining);
      const buffer = into
        ? Buffer.from(into.buffer, into.byteOffset + range.length - remaining, size)
        : Buffer.allocUnsafe(size);
      handle.read(buffer, 0, buffer.byteLength, position).then(
        ({ bytesRead }) => {
          if (bytesRead === 0) {
            const detail = `the file ended ${remaining} bytes early (truncated while being read)`;
            this.destroy(new StoreError('Integrity', detail, { operation: 'get', key }));
            return;
          }
          position += bytesRead;
          remaining -= bytesRead;
          this.push(buffer.subarray(0, bytesRead));
          if (remaining === 0) this.push(null);
        },
        (err) => this.destroy(err),
      );
    },
    destroy(err, callback) {
      signal?.removeEventListener('abort', abort);
      handle.close().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
  function abort() {
    stream.destroy(abortError(signal, 'get', key));
  }
  signal?.addEventListener('abort', abort, { once: true });
  return stream;
}

/** The part of `range` an object of `size` bytes has: past the end yields what exists. */
export function clipRange(range: ByteRange, size: number): { offset: number; length: number } {
  const offset = Math.min(range.offset, size);
  return { offset, length: Math.min(range.length ?? size - offset, size - offset) };
}
