import type { BigIntStats } from 'node:fs';
import { link, lstat, rename, unlink } from 'node:fs/promises';
import { type PutMode, StoreError } from '@ckpt/core';
import { errnoOf, throwIfAborted } from '@ckpt/core/backend';
import type { TempFile } from './atomic-write.js';
import { removeEmptyTree } from './folders.js';
import { nextModifiedTime, versionOf } from './version.js';

export interface CommitOptions {
  key: string;
  mode: PutMode;
  /** Re-creates the parent folders when a concurrent delete pruned them. */
  makeParents(): Promise<void>;
  signal?: AbortSignal;
}

/** Link errors that mean "this filesystem has no hard links", not "you may not". */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

/**
 * Moves a written temp file to `target` in one atomic step, after checking `options.mode` against
 * the current file. Call it holding the key's lock: the check and the move are then one step for
 * every FsStore, in any process. Create-only puts use `link`, which fails atomically when the
 * target exists even for a writer that ignores the lock. Returns the stat of the stored file.
 */
export async function commitTemp(
  temp: TempFile,
  target: string,
  options: CommitOptions,
): Promise<BigIntStats> {
  const { key, mode, signal } = options;
  for (let attempt = 0; ; attempt++) {
    const current = await currentFile(target, key);
    if (mode === 'create' && current) {
      throw new StoreError('AlreadyExists', 'the key already exists', { operation: 'put', key });
    }
    if (typeof mode === 'object' && (!current || versionOf(current) !== mode.update)) {
      const why = current ? 'the version does not match' : 'the key does not exist';
      throw new StoreError('PreconditionFailed', why, { operation: 'put', key });
    }
    throwIfAborted(signal, 'put', key);
    const time = nextModifiedTime(current);
    await temp.handle.utimes(time, time);
    const stat = await temp.handle.stat({ bigint: true });
    try {
      if (mode === 'create') await linkOrRename(temp.path, target);
      else await rename(temp.path, target);
      return stat;
    } catch (err) {
      // a concurrent delete of a sibling key pruned our parent folder: make it again
      if (errnoOf(err) !== 'ENOENT' || attempt === 10) throw err;
      await options.makeParents();
    }
  }
}

async function linkOrRename(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
  } catch (err) {
    if (!NO_HARD_LINKS.has(errnoOf(err) ?? '')) throw err;
    await rename(from, to); // still safe against other FsStores: we hold the key's lock
    return;
  }
  await unlink(from);
}

/**
 * The stat of the object at `target`, undefined when absent. A tree of empty folders there (left
 * by a crash) is removed; a folder holding keys, a symlink or a special file is refused.
 */
async function currentFile(target: string, key: string): Promise<BigIntStats | undefined> {
  let stat: BigIntStats;
  try {
    stat = await lstat(target, { bigint: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
  if (stat.isFile()) return stat;
  if (stat.isDirectory() && (await removeEmptyTree(target))) return undefined;
  const what = stat.isDirectory() ? 'a folder of other keys' : 'a symlink or special file';
  throw new StoreError('InvalidArgument', `the key's path is ${what}, not an object`, {
    operation: 'put',
    key,
  });
}
