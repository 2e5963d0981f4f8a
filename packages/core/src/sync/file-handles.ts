import { type BigIntStats, constants } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { writeAll } from '../write-all.js';
import { fileTime } from './file-time.js';

/** Opens for writing, creating the file (owner-only until finished) and never following a link. */
export const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW;

/** What a file becomes once its last byte is written. */
export interface Finish {
  mode: number;
  mtimeMs: number;
  /** The length to set (a file that ends in a hole); omitted when its writes reach its end. */
  size?: number;
}

/**
 * Writes the files of a new tree: keeps up to `max` of them open for positional writes (creating
 * each at its first write), so writing thousands of chunks costs thousands of `pwrite`s, not
 * thousands of `open`/`close` pairs, and finishes each one on its own handle. Handles in use are
 * never closed under a writer; idle ones are closed least recently used first.
 */
export class FileHandles {
  private readonly open = new Map<string, { handle: Promise<FileHandle>; users: number }>();

  constructor(private readonly max = 256) {}

  async write(file: string, data: Uint8Array, position: number): Promise<void> {
    await this.use(file, (handle) => writeAll(handle, data, position));
  }

  /**
   * Sets `file`'s length (when given), mode and times, and closes it; creates it when nothing was
   * written to it. Call once its writes are done. Returns its status as left.
   */
  async finish(file: string, how: Finish): Promise<BigIntStats> {
    let stats: BigIntStats | undefined;
    await this.use(file, async (handle) => {
      if (how.size !== undefined) await handle.truncate(how.size);
      await handle.chmod(how.mode);
      const time = fileTime(how.mtimeMs);
      await handle.utimes(time, time);
      stats = await handle.stat({ bigint: true });
    });
    const slot = this.open.get(file);
    this.open.delete(file);
    await (await slot?.handle)?.close();
    return stats!;
  }

  /** Closes every handle (also after a failure). */
  async closeAll(): Promise<void> {
    const slots = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(slots.map(async (s) => (await s.handle).close()));
  }

  private async use(file: string, fn: (handle: FileHandle) => Promise<unknown>): Promise<void> {
    // the slot is registered before any await: a concurrent write to the same file shares it
    let slot = this.open.get(file);
    if (slot)
      this.open.delete(file); // re-insert: most recently used last
    else slot = { handle: open(file, WRITE_FLAGS, 0o600), users: 0 };
    this.open.set(file, slot);
    slot.users++;
    try {
      await this.evict();
      await fn(await slot.handle);
    } finally {
      slot.users--;
    }
  }

  private async evict(): Promise<void> {
    for (const [file, slot] of this.open) {
      if (this.open.size <= this.max) return;
      if (slot.users > 0) continue;
      this.open.delete(file);
      await (await slot.handle.catch(() => undefined))?.close();
    }
  }
}
