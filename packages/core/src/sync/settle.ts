import pLimit from 'p-limit';

/** Waits for every promise, then throws the first failure (in array order): nothing is left running. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Runs `fn` on every item, `limit` at a time; see {@link settleAll}. */
export function eachLimited<T>(
  items: Iterable<T>,
  limit: number,
  fn: (item: T) => Promise<unknown>,
): Promise<void> {
  const run = pLimit(limit);
  return settleAll([...items].map((item) => run(() => fn(item)))).then(() => undefined);
}
