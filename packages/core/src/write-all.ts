import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * The most bytes one `write(2)` gets. On virtual machines that hand free memory back to their
 * host, writes of 1 MiB or more can ask the kernel for large page-cache folios that only memory
 * the host took back can supply, at many times the system time; smaller writes never do, and cost
 * one system call per piece, too few to matter (measurements in docs/benchmarks.md).
 */
export const WRITE_PIECE = 256 * 1024;

/**
 * Writes all of `bytes` at `position` (or the file's position), in pieces of {@link WRITE_PIECE}.
 * With a `position`, up to `lanes` pieces are written at once: each write is a round trip through
 * the thread pool, and a large buffer then waits for a quarter of them with 4 lanes. Settles
 * once no write is running; the first failure is thrown.
 */
export async function writeAll(
  handle: FileHandle,
  bytes: Uint8Array,
  position?: number,
  lanes = 1,
): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (next < bytes.length && !failed) {
      const start = next;
      const end = Math.min(start + WRITE_PIECE, bytes.length);
      next = end;
      for (let done = start; done < end; ) {
        const at = position === undefined ? null : position + done;
        done += (await handle.write(bytes, done, end - done, at)).bytesWritten;
      }
    }
  };
  const count = position === undefined ? 1 : Math.min(lanes, Math.ceil(bytes.length / WRITE_PIECE));
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, count) }, () =>
      lane().catch((err) => {
        failed = true;
        throw err;
      }),
    ),
  );
  for (const result of results) if (result.status === 'rejected') throw result.reason;
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
