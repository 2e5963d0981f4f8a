import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { StoreError } from '@ckpt/core';
import { fsError } from './errors.js';

const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * A stream of exactly `length` bytes of an open file from `offset`. Reading through the handle
 * keeps the bytes of the object as it was when opened, even if a put renames a new file over it.
 * If the file shrinks under us (truncated in place), the stream errors with `Integrity`: it never
 * ends early. The stream owns the handle and closes it when it ends or is destroyed.
 */
export function rangeStream(handle: FileHandle, offset: number, length: number, key: string): Readable {
  let position = offset;
  let remaining = length;
  return new Readable({
    highWaterMark: READ_CHUNK_BYTES,
    read() {
      if (remaining === 0) {
        this.push(null);
        return;
      }
      const buffer = Buffer.allocUnsafe(Math.min(READ_CHUNK_BYTES, remaining));
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
        (err) => this.destroy(fsError(err, 'get', key)),
      );
    },
    destroy(err, callback) {
      handle.close().then(
        () => callback(err),
        () => callback(err),
      );
    },
  });
}
