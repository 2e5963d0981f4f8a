import { StoreError } from '../../src/errors.js';

/** The StoreError `fn` throws or rejects with; anything else (or no error) fails the test. */
export async function storeErrorOf(fn: () => unknown): Promise<StoreError> {
  try {
    await fn();
  } catch (err) {
    if (StoreError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}
