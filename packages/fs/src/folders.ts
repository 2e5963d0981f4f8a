import { lstat, mkdir, open, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '@ckpt/core';
import { errnoOf, fsError } from './errors.js';

/**
 * True when every parent folder of the key `segments` exists under `root` as a real directory.
 * A symlink or a file in between makes it false: the store never follows links, so such keys
 * do not exist for reads.
 */
export async function parentsAreFolders(root: string, segments: string[]): Promise<boolean> {
  let dir = root;
  for (const segment of segments.slice(0, -1)) {
    dir = path.join(dir, segment);
    try {
      if (!(await lstat(dir)).isDirectory()) return false;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
      throw err;
    }
  }
  return true;
}

/**
 * Creates the missing parent folders of a key, durably (each new folder is fsynced into its
 * parent). Throws `InvalidArgument` when a parent is an object (a file) or a symlink.
 */
export async function ensureParents(root: string, segments: string[], key: string, operation: string) {
  // a concurrent delete may prune a folder we just saw or made: walk again from the root
  for (let attempt = 0; ; attempt++) {
    if (await makeParents(root, segments, key, operation)) return;
    if (attempt === 100)
      throw new StoreError('Conflict', 'parent folders keep vanishing', { operation, key });
  }
}

/** One walk down from the root; false when a folder vanished under us. */
async function makeParents(
  root: string,
  segments: string[],
  key: string,
  operation: string,
): Promise<boolean> {
  let dir = root;
  for (const [i, segment] of segments.slice(0, -1).entries()) {
    const parent = dir;
    dir = path.join(dir, segment);
    const kind = await kindOf(dir, operation, key);
    if (kind === 'folder') continue;
    if (kind === 'other') {
      const what = segments.slice(0, i + 1).join('/');
      throw new StoreError('InvalidArgument', `"${what}" is an object or a symlink, not a folder of keys`, {
        operation,
        key,
      });
    }
    try {
      await mkdir(dir);
      await syncFolder(parent);
    } catch (err) {
      // EEXIST: another writer made it first; ENOENT: a delete pruned the parent
      if (errnoOf(err) !== 'EEXIST' && errnoOf(err) !== 'ENOENT') throw fsError(err, operation, key);
      return false;
    }
  }
  return true;
}

async function kindOf(file: string, operation: string, key: string): Promise<'folder' | 'missing' | 'other'> {
  try {
    return (await lstat(file)).isDirectory() ? 'folder' : 'other';
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return 'missing';
    throw fsError(err, operation, key);
  }
}

/** Removes the key's parent folders that are now empty, deepest first, never `root` itself. */
export async function pruneEmptyParents(root: string, segments: string[]): Promise<void> {
  for (let depth = segments.length - 1; depth > 0; depth--) {
    try {
      await rmdir(path.join(root, ...segments.slice(0, depth)));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') return; // not empty (or not ours to remove): stop here
    }
  }
}

/**
 * Removes `dir` when it holds nothing but (nested) empty folders, such as a crash between
 * creating parent folders and renaming the object into them leaves. True when it is gone.
 */
export async function removeEmptyTree(dir: string): Promise<boolean> {
  try {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      if (!entry.isDirectory() || !(await removeEmptyTree(path.join(dir, entry.name)))) return false;
    }
    await rmdir(dir);
    return true;
  } catch (err) {
    return errnoOf(err) === 'ENOENT';
  }
}

/** Folder fsyncs in flight, per folder: the one running and the one queued behind it. */
const folderSyncs = new Map<string, { running: Promise<void>; queued?: Promise<void> }>();

/**
 * Makes a rename, link, unlink or mkdir inside `dir` durable. Concurrent callers for one folder
 * share fsyncs (group commit): each waits for an fsync that started after it asked, so eight puts
 * into one folder cost about two folder fsyncs, not eight.
 */
export function syncFolder(dir: string): Promise<void> {
  const inFlight = folderSyncs.get(dir);
  if (!inFlight) return startFolderSync(dir);
  // the running fsync may have started before our change: join the next one
  inFlight.queued ??= inFlight.running.then(
    () => startFolderSync(dir),
    () => startFolderSync(dir),
  );
  return inFlight.queued;
}

function startFolderSync(dir: string): Promise<void> {
  const running = fsyncFolder(dir).finally(() => {
    if (folderSyncs.get(dir)?.running === running) folderSyncs.delete(dir);
  });
  folderSyncs.set(dir, { running });
  return running;
}

async function fsyncFolder(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } catch (err) {
    // some filesystems (FUSE, SMB) cannot fsync a directory: their renames are as durable as they get
    if (errnoOf(err) !== 'EINVAL' && errnoOf(err) !== 'ENOTSUP') throw err;
  } finally {
    await handle.close();
  }
}
