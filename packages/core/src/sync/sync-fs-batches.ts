import { setImmediate as loopTurn } from 'node:timers/promises';

/**
 * Synchronous file-system calls made between two turns of the event loop. Metadata calls
 * (`lstat`, `readdir`, `mkdir`, `link`, `symlink`, `chmod`, `utimes`) are made synchronously: a
 * thread-pool round trip costs several times such a call (docs/benchmarks.md), and a slice this
 * size is short enough that the event loop still turns.
 */
export const SYNC_SLICE = 256;

/** Runs `fn`, which makes synchronous file-system calls, on each item, yielding every {@link SYNC_SLICE}. */
export async function eachSliced<T>(items: Iterable<T>, fn: (item: T) => void): Promise<void> {
  let n = 0;
  for (const item of items) {
    if (++n % SYNC_SLICE === 0) await loopTurn();
    fn(item);
  }
}

export { loopTurn };
