import { randomBytes } from 'node:crypto';
import { rename, rm } from 'node:fs/promises';
import path from 'node:path';

/** Replaces `root` by `staging`: two renames; the old tree is removed afterwards. */
export async function swapIn(staging: string, root: string, hadOld: boolean): Promise<void> {
  if (!hadOld) {
    await rename(staging, root);
    return;
  }
  const old = path.join(
    path.dirname(root),
    `.${path.basename(root)}.ckpt-old-${randomBytes(6).toString('hex')}`,
  );
  await rename(root, old);
  try {
    await rename(staging, root);
  } catch (err) {
    await rename(old, root); // put the old tree back
    throw err;
  }
  await rm(old, { recursive: true, force: true });
}
