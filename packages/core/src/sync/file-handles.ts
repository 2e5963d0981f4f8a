import { type FileHandle, open } from 'node:fs/promises';

/**
 * Keeps up to `max` file handles open for positional writes, so writing thousands of chunks costs
 * thousands of `pwrite`s, not thousands of `open`/`close` pairs. Handles in use are never closed
 * under a writer; idle ones are closed least recently used first.
 */
export class FileHandles {
  private readonly open = new Map<string, { handle: Promise<FileHandle>; users: number }>();

  constructor(private readonly max = 256) {}

  /** Creates `file` (it must not exist) at `size` bytes, all holes, and keeps it open for the writes to come. */
  async create(file: string, size: number): Promise<void> {
    if (this.open.has(file)) {
      throw Object.assign(new Error(`EEXIST: file already exists, open '${file}'`), { code: 'EEXIST' });
    }
    await this.use(
      file,
      () => open(file, 'wx', 0o600),
      (handle) => handle.truncate(size),
    );
  }

  async write(file: string, data: Uint8Array, position: number): Promise<void> {
    await this.use(
      file,
      () => open(file, 'r+'),
      async (handle) => {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
          done += bytesWritten;
        }
      },
    );
  }

  /** Closes every handle (also after a failure). */
  async closeAll(): Promise<void> {
    const slots = [...this.open.values()];
    this.open.clear();
    await Promise.allSettled(slots.map(async (s) => (await s.handle).close()));
  }

  private async use(
    file: string,
    opener: () => Promise<FileHandle>,
    fn: (handle: FileHandle) => Promise<unknown>,
  ): Promise<void> {
    // the slot is registered before any await: a concurrent write to the same file shares it
    let slot = this.open.get(file);
    if (slot)
      this.open.delete(file); // re-insert: most recently used last
    else slot = { handle: opener(), users: 0 };
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
