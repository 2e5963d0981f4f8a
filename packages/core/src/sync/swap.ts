import { randomBytes } from 'node:crypto';
import { lstat, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Replaces `root` by `staging`: two renames; the old tree is removed afterwards. */
export async function swapIn(staging: string, root: string, hadOld: boolean): Promise<void> {
  if (!hadOld) {
    await rename(staging, root);
    return;
  }
  const old = siblingPath(root, `old-${randomBytes(6).toString('hex')}`);
  await rename(root, old);
  try {
    await rename(staging, root);
  } catch (err) {
    await rename(old, root); // put the old tree back
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}

/**
 * Puts back the old tree of a swap a crash interrupted between its two renames (the destination
 * is missing and exactly one `.<name>.ckpt-old-*` sibling holds it).
 */
export async function restoreInterruptedSwap(root: string): Promise<void> {
  if (await lstat(root).catch(() => undefined)) return;
  const olds = (await siblings(root)).filter((s) => OLD_TREE.test(s.rest));
  if (olds.length === 1) await rename(olds[0]!.full, root).catch(() => undefined);
}

/** The rest of the name of an old tree a swap moved aside. */
export const OLD_TREE = /^old-[0-9a-f]{12}$/;

/** The hidden sibling `.<name>.ckpt-<rest>` of `root`. */
export function siblingPath(root: string, rest: string): string {
  return path.join(path.dirname(root), `.${path.basename(root)}.ckpt-${rest}`);
}

/** The `.<name>.ckpt-*` siblings of `root`: the rest of each name after that prefix, and its path. */
export async function siblings(root: string): Promise<{ rest: string; full: string }[]> {
  const parent = path.dirname(root);
  const prefix = `.${path.basename(root)}.ckpt-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  return names
    .filter((name) => name.startsWith(prefix))
    .map((name) => ({ rest: name.slice(prefix.length), full: path.join(parent, name) }));
}
