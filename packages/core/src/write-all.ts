import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * The most bytes one `write(2)` gets. Larger writes let the kernel put them in large page-cache
 * folios, and on a VM that hands free memory back to its host (virtio free page reporting, as on
 * the machines ckpt is benchmarked on) every large folio is carved from memory the host must
 * fault back in: writing 1.25 GiB to new files took 2.9–3.2 s of system time in writes of 1 MiB
 * or more, 0.25–0.30 s in writes of 64–384 KiB (docs/benchmarks.md). Pieces cost one system call
 * per 256 KiB, which no measurement here could tell apart from whole writes.
 */
export const WRITE_PIECE = 256 * 1024;

/** Writes all of `bytes` at `position` (or the file's position), in pieces of {@link WRITE_PIECE}. */
export async function writeAll(handle: FileHandle, bytes: Uint8Array, position?: number): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const length = Math.min(WRITE_PIECE, bytes.length - done);
    const at = position === undefined ? null : position + done;
    done += (await handle.write(bytes, done, length, at)).bytesWritten;
  }
}

/** {@link writeAll} for a descriptor, blocking: `length` bytes of `bytes` from `offset`, at `position`. */
export function writeAllSync(
  fd: number,
  bytes: Uint8Array,
  offset: number,
  length: number,
  position: number,
): void {
  for (let done = 0; done < length; ) {
    done += writeSync(fd, bytes, offset + done, Math.min(WRITE_PIECE, length - done), position + done);
  }
}
