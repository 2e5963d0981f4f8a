import { writeSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';

/**
 * The most bytes one `write(2)` gets. On the VMs ckpt is benchmarked on (virtio free page
 * reporting: free memory goes back to the host, and touching it again costs a fault there), new
 * page-cache pages cost 10× more when they come from memory the host took back. Writes of 1 MiB
 * or more probably ask for large folios, which in some states of the machine only such memory
 * can supply: 1.25 GiB written to new files then cost 2.9–3.2 s of system time in 1–8 MiB writes and
 * 0.25–0.30 s in 64–384 KiB ones; in other states every size cost the same (docs/benchmarks.md,
 * session 9). Pieces cost one system call per 256 KiB, which no measurement here could tell apart.
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
