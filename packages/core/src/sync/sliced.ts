import { setImmediate as loopTurn } from 'node:timers/promises';

/**
 * Synchronous file-system calls made between two turns of the event loop. Metadata calls
 * (`lstat`, `readdir`, `mkdir`, `link`, `symlink`, `chmod`, `utimes`) are made synchronously: on
 * this project's test machines a thread-pool round trip costs several times the call itself
 * (10,000 `lstat`s: 35 ms synchronous, 190 ms with 16 promises in flight), and a slice of 256
 * takes about a millisecond, so the loop still turns.
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
