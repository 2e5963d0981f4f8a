import type { Dirent } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { compareKeys, errnoOf } from '@ckpt/core/backend';

/**
 * Reads what an {@link FsStore} really wrote under `root`, without going through the store: the
 * `RawReader` of `@ckpt/testkit` (structurally; this package does not depend on the testkit).
 * Sees every file, the internal folder's temp and lock files included, so a put that leaks a temp
 * file or a lock shows up. For tests, and small objects only.
 */
export function fsRawReader(root: string): {
  read(key: string): Promise<Uint8Array | undefined>;
  keys(): Promise<string[]>;
} {
  return {
    async read(key) {
      try {
        return await readFile(path.join(root, ...key.split('/')));
      } catch (err) {
        if (['ENOENT', 'ENOTDIR', 'EISDIR'].includes(errnoOf(err) ?? '')) return undefined;
        throw err;
      }
    },
    async keys() {
      const keys: string[] = [];
      await collect(root, '', keys);
      return keys.sort(compareKeys);
    },
  };
}

async function collect(dir: string, base: string, keys: string[]): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return;
    throw err;
  }
  for (const entry of entries) {
    if (entry.isDirectory()) await collect(path.join(dir, entry.name), `${base}${entry.name}/`, keys);
    else keys.push(base + entry.name);
  }
}
