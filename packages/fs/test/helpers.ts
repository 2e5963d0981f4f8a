import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { useTempDir } from '@ckpt/test-utils';
import { expect } from 'vitest';

/** A fresh temp folder, removed after the test. */
export const tempRoot = useTempDir('ckpt-fs-test-');

/** Expects `promise` to reject with a StoreError of `code`; returns it. */
export async function expectCode(promise: Promise<unknown>, code: StoreErrorCode): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(StoreError.is(error), `expected a StoreError ${code}, got ${String(error)}`).toBe(true);
  expect((error as StoreError).code, (error as Error).message).toBe(code);
  return error as StoreError;
}

/** The names in the store's temp and lock folders (empty after any finished operation). */
export async function internalFiles(root: string): Promise<string[]> {
  const names: string[] = [];
  for (const dir of ['tmp', 'locks']) {
    const found = await readdir(path.join(root, '.ckpt-fs', dir)).catch(() => []);
    names.push(...found.map((name) => `${dir}/${name}`));
  }
  return names;
}
