import pLimit from 'p-limit';

/** Waits for every promise, then throws the first failure: nothing is left running. */
export async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failed = (await Promise.allSettled(promises)).find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Runs `fn` on every item, `limit` at a time; see {@link settleAll}. */
export function eachLimited<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  const run = pLimit(limit);
  return settleAll([...items].map((item) => run(() => fn(item))));
}
