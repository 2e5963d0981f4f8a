import { lstatSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { StoreError } from '../errors.js';
import type { LocalState } from './local-state.js';
import { scanDirectory } from './scan.js';

/**
 * The absolute path of a local checkpoint directory given by a caller. An empty path is refused:
 * it would silently mean the current directory.
 */
export function localDirectory(dir: string, operation: string): string {
  if (typeof dir !== 'string' || dir.trim() === '') {
    throw new StoreError('InvalidArgument', 'the directory is an empty path', { operation, key: '""' });
  }
  return path.resolve(dir);
}

/**
 * Refuses a pull destination that no pull may replace, with or without `force`: the filesystem
 * root, the home directory, and the current directory and its ancestors (replacing one would
 * pull the ground from under the caller).
 */
export function assertReplaceable(root: string): void {
  const cwd = process.cwd();
  const reason =
    path.dirname(root) === root
      ? 'the filesystem root'
      : root === homedir()
        ? 'the home directory'
        : cwd === root || cwd.startsWith(`${root}${path.sep}`)
          ? 'the current directory or one of its parents'
          : undefined;
  if (reason) {
    throw new StoreError('InvalidArgument', `refusing to replace ${reason}`, {
      operation: 'pull',
      key: root,
    });
  }
}

/**
 * Refuses to replace an existing directory that holds anything ckpt did not put there, unless
 * `force`: it must be empty, or hold only what its local record says ckpt wrote or pushed (every
 * entry recorded, every file with its recorded size, modification time and inode). A file added
 * or changed since is somebody's data.
 */
export async function assertOwnTree(
  root: string,
  records: (LocalState | undefined)[],
  force: boolean,
): Promise<void> {
  if (force || isEmptyDirectory(root)) return;
  const refuse = (why: string) =>
    new StoreError('InvalidArgument', `${why}; pass --force (force: true) to replace it`, {
      operation: 'pull',
      key: root,
    });
  const known = records.filter((r) => r !== undefined);
  if (known.length === 0) throw refuse('the directory is not empty and ckpt did not write it');
  const entries = await scanDirectory(root).catch(() => {
    throw refuse('the directory holds entries ckpt cannot have written');
  });
  let stranger: string | undefined;
  for (const record of known) {
    const recorded = new Map(record.manifest.entries.map((e) => [e.path, e]));
    stranger = entries.find((entry) => {
      const want = recorded.get(entry.path);
      return !(
        want?.type === entry.type &&
        (entry.type !== 'file' || ownFile(record.stamps[entry.path], entry.stat)) &&
        (entry.type !== 'symlink' || (want.type === 'symlink' && want.target === entry.target))
      );
    })?.path;
    if (stranger === undefined) return;
  }
  throw refuse(`${stranger} was not written by ckpt or changed since`);
}

/** A file ckpt wrote: its content-identifying stamp fields match (ctime moves with hard links). */
function ownFile(recorded: LocalState['stamps'][string] | undefined, now: LocalState['stamps'][string]) {
  return (
    !!recorded &&
    recorded.size === now.size &&
    recorded.mtimeNs === now.mtimeNs &&
    recorded.ino === now.ino &&
    recorded.dev === now.dev
  );
}

function isEmptyDirectory(root: string): boolean {
  try {
    return lstatSync(root).isDirectory() && readdirSync(root).length === 0;
  } catch {
    return false;
  }
}
