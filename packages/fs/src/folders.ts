import { lstat, mkdir, open, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '@ckpt/core';
import { errnoOf } from '@ckpt/core/backend';

/** The parent folders of the key `segments` under `root`, outermost first. */
function parentFolders(root: string, segments: string[]): string[] {
  const dirs: string[] = [];
  for (const segment of segments.slice(0, -1)) dirs.push(path.join(dirs.at(-1) ?? root, segment));
  return dirs;
}

/**
 * True when every parent folder of the key `segments` exists under `root` as a real directory.
 * A symlink or a file in between makes it false: the store never follows links, so such keys
 * do not exist for reads. The folders are looked at all at once (one round trip, not one each).
 */
export async function parentsAreFolders(root: string, segments: string[]): Promise<boolean> {
  const kinds = await Promise.all(parentFolders(root, segments).map(kindOf));
  return kinds.every((kind) => kind === 'folder');
}

/**
 * Creates the missing parent folders of a key, and starts fsyncing each new one into its parent
 * without waiting for that: a put awaits {@link parentSyncs} before it counts as durable. Throws
 * `InvalidArgument` when a parent is an object (a file) or a symlink.
 */
export async function ensureParents(root: string, segments: string[], key: string, operation: string) {
  // a concurrent delete may prune a folder we just saw or made: walk again from the root
  for (let attempt = 0; ; attempt++) {
    if (await makeParents(root, segments, key, operation)) return;
    if (attempt === 100)
      throw new StoreError('Conflict', 'parent folders keep vanishing', { operation, key });
  }
}

/** Folders made by this process whose entry is not yet durable: the fsync of their parent. */
const unsynced = new Map<string, Promise<void>>();

/**
 * The fsyncs still running that make the parent folders of the key `segments` durable: those
 * made by any put of this process, not only by the caller, since another put may have made the
 * folder a moment before.
 */
export function parentSyncs(root: string, segments: string[]): Promise<void>[] {
  return parentFolders(root, segments).flatMap((dir) => unsynced.get(dir) ?? []);
}

/** One walk down from the root; false when a folder vanished under us. */
async function makeParents(
  root: string,
  segments: string[],
  key: string,
  operation: string,
): Promise<boolean> {
  const dirs = parentFolders(root, segments);
  const kinds = await kindsOf(dirs);
  for (const [i, dir] of dirs.entries()) {
    let kind = kinds[i];
    if (kind === 'missing') {
      if (await makeFolder(dir)) {
        const synced = syncFolder(path.dirname(dir));
        unsynced.set(dir, synced);
        const settled = () => {
          if (unsynced.get(dir) === synced) unsynced.delete(dir);
        };
        synced.then(settled, settled);
        continue;
      }
      [kind] = await kindsOf([dir]); // made by another writer, or its parent is gone
    }
    if (kind === 'missing') return false;
    if (kind === 'other') {
      const what = segments.slice(0, i + 1).join('/');
      throw new StoreError('InvalidArgument', `"${what}" is an object or a symlink, not a folder of keys`, {
        operation,
        key,
      });
    }
  }
  return true;
}

/** `mkdir`; false when something is there already (EEXIST) or the parent is not (ENOENT, ENOTDIR). */
async function makeFolder(dir: string): Promise<boolean> {
  try {
    await mkdir(dir);
    return true;
  } catch (err) {
    if (['EEXIST', 'ENOENT', 'ENOTDIR'].includes(errnoOf(err) ?? '')) return false;
    throw err;
  }
}

function kindsOf(dirs: string[]) {
  return Promise.all(dirs.map(kindOf));
}

/** What is at `file`, never following a symlink; `missing` also when a parent is not a folder. */
async function kindOf(file: string): Promise<'folder' | 'missing' | 'other'> {
  try {
    return (await lstat(file)).isDirectory() ? 'folder' : 'other';
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return 'missing';
    throw err;
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
