import type { BigIntStats, Dirent } from 'node:fs';
import { lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { compareKeys, errnoOf, keyProblem } from '@ckpt/core/backend';
import { parentsAreFolders } from './folders.js';
import { INTERNAL_DIR } from './paths.js';

/** A stored object found by {@link walkObjects}. */
export interface FoundObject {
  key: string;
  stat: BigIntStats;
}

interface Entry {
  name: string;
  folder: boolean;
  order: Buffer;
}

/**
 * Yields the objects under `root` whose key starts with `prefix` (and sorts after `startAfter`),
 * in ascending UTF-8 byte order, lazily: one folder is read at a time, depth first, and folders
 * entirely outside the range are never opened. Memory is bounded by the largest single folder,
 * not by the number of keys.
 *
 * Skipped: the internal folder, symlinks, special files, and names no key can address (for
 * instance names that are not valid UTF-8, or that end with `.`).
 */
export async function* walkObjects(
  root: string,
  prefix: string,
  startAfter?: string,
): AsyncGenerator<FoundObject> {
  // start in the deepest folder the prefix names whole: `a/b/c` starts in `a/b`, matching `c*`
  const slash = prefix.lastIndexOf('/');
  const folderKey = slash < 0 ? '' : prefix.slice(0, slash);
  const folderSegments = folderKey === '' ? [] : folderKey.split('/');
  if (folderSegments[0] === INTERNAL_DIR) return;
  if (!(await parentsAreFolders(root, [...folderSegments, '']))) return;
  const base = folderKey === '' ? '' : `${folderKey}/`;
  yield* walkFolder(path.join(root, ...folderSegments), base, prefix.slice(slash + 1), startAfter);
}

async function* walkFolder(
  dir: string,
  base: string,
  namePrefix: string,
  startAfter: string | undefined,
): AsyncGenerator<FoundObject> {
  const entries = await readEntries(dir, base, namePrefix, startAfter);
  for (const entry of entries) {
    const key = base + entry.name;
    if (entry.folder) {
      yield* walkFolder(path.join(dir, entry.name), `${key}/`, '', startAfter);
      continue;
    }
    const stat = await lstatOrUndefined(path.join(dir, entry.name));
    if (stat?.isFile()) yield { key, stat };
  }
}

/** The folder's files and sub-folders that can hold keys in range, in key order. */
async function readEntries(dir: string, base: string, namePrefix: string, startAfter: string | undefined) {
  let dirents: Dirent[];
  try {
    dirents = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return []; // removed while we walked
    throw err;
  }
  const entries: Entry[] = [];
  for (const dirent of dirents) {
    const { name } = dirent;
    if (!name.startsWith(namePrefix) || (base === '' && name === INTERNAL_DIR)) continue;
    if (name.includes('\uFFFD') || keyProblem(base + name)) continue;
    const folder = await isFolder(dir, dirent);
    if (folder === undefined) continue;
    // a folder sorts as `name/`: its keys all start so (`a/x` sorts after `a-b` and `a.b`)
    const key = base + name;
    const order = folder ? `${key}/` : key;
    if (startAfter !== undefined && !inRange(order, folder, startAfter)) continue;
    entries.push({ name, folder, order: Buffer.from(order) });
  }
  return entries.sort((a, b) => Buffer.compare(a.order, b.order));
}

/** Whether a file or folder with sort key `order` can hold a key after `startAfter`. */
function inRange(order: string, folder: boolean, startAfter: string): boolean {
  if (!folder) return compareKeys(order, startAfter) > 0;
  return compareKeys(order, startAfter) >= 0 || startAfter.startsWith(order);
}

/** true for a real folder, false for a regular file, undefined for anything else. */
async function isFolder(dir: string, dirent: Dirent): Promise<boolean | undefined> {
  if (dirent.isDirectory()) return true;
  if (dirent.isFile()) return false;
  if (dirent.isSymbolicLink()) return undefined;
  // some filesystems do not report types in readdir
  const stat = await lstatOrUndefined(path.join(dir, dirent.name));
  if (stat?.isDirectory()) return true;
  return stat?.isFile() ? false : undefined;
}

async function lstatOrUndefined(file: string): Promise<BigIntStats | undefined> {
  try {
    return await lstat(file, { bigint: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
    throw err;
  }
}
