import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
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

/** A fresh temporary directory, removed after the test. */
export function useTempDir(): () => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ckpt-config-'));
    dirs.push(dir);
    return dir;
  };
}
