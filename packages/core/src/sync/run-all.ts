import pLimit from 'p-limit';

/** Waits for every promise, then throws the first failure (in array order): nothing is left running. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/**
 * Runs `fn` on every item, `limit` at a time, until one fails: the items not started by then are
 * skipped, and the first failure is thrown once the running ones have settled.
 */
export function eachLimited<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  const run = pLimit(limit);
  let failed = false;
  const each = async (item: T) => {
    if (failed) return;
    await fn(item).catch((err) => {
      failed = true;
      throw err;
    });
  };
  return settleAll([...items].map((item) => run(() => each(item)))).then(() => undefined);
}
