import { lstatSync, readdirSync, readlinkSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { pathProblem } from './rel-path.js';
import { type FileStamp, stampOf } from './stamp.js';
import { loopTurn, SYNC_SLICE } from './sync-fs-batches.js';

/** One thing found in a checkpoint directory. Paths are relative, `/`-separated. */
export type ScannedEntry =
  | { type: 'file'; path: string; abs: string; mode: number; size: number; mtimeMs: number; stat: FileStamp }
  | { type: 'dir'; path: string; abs: string; mode: number; mtimeMs: number }
  | { type: 'symlink'; path: string; abs: string; target: string };

/** A regular file found by the scan. */
export type ScannedFile = Extract<ScannedEntry, { type: 'file' }>;

/**
 * Lists a checkpoint directory: regular files, directories and symbolic links (stored as links,
 * never followed), depth first, sorted by name, parents before children. Sockets, devices and
 * FIFOs cannot be checkpointed and fail with `InvalidArgument` naming the path. `onEntry` sees
 * each entry as soon as it is known, before the whole list is.
 */
export async function scanDirectory(
  root: string,
  onEntry?: (entry: ScannedEntry) => void,
): Promise<ScannedEntry[]> {
  const top = await lstat(root, { bigint: true }).catch((cause: NodeJS.ErrnoException) => {
    throw new StoreError(
      cause.code === 'ENOENT' ? 'NotFound' : 'InvalidArgument',
      `cannot read: ${cause.code}`,
      {
        operation: 'scan',
        key: root,
        cause,
      },
    );
  });
  if (!top.isDirectory()) {
    throw new StoreError('InvalidArgument', 'not a directory', { operation: 'scan', key: root });
  }
  const out: ScannedEntry[] = [];
  let calls = 0;
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? path.join(root, rel) : root;
    const names = readdirSync(dir).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    for (const name of names) {
      const relPath = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, name);
      const problem = pathProblem(relPath);
      if (problem)
        throw new StoreError('InvalidArgument', `unsupported file name: ${problem}`, {
          operation: 'scan',
          key: abs,
        });
      if (++calls % SYNC_SLICE === 0) await loopTurn(); // entries are lstat'ed synchronously
      const entry = entryOf(relPath, abs);
      onEntry?.(entry);
      out.push(entry);
      if (entry.type === 'dir') await walk(relPath);
    }
  };
  await walk('');
  return out;
}

function entryOf(relPath: string, abs: string): ScannedEntry {
  const st = lstatSync(abs, { bigint: true });
  const mode = Number(st.mode & 0o7777n);
  const mtimeMs = Number(st.mtimeNs / 1000n) / 1000;
  if (st.isFile()) {
    return { type: 'file', path: relPath, abs, mode, size: Number(st.size), mtimeMs, stat: stampOf(st) };
  }
  if (st.isDirectory()) return { type: 'dir', path: relPath, abs, mode, mtimeMs };
  if (st.isSymbolicLink()) return { type: 'symlink', path: relPath, abs, target: readlinkSync(abs) };
  const kind = st.isSocket() ? 'a socket' : st.isFIFO() ? 'a FIFO' : 'a device';
  throw new StoreError(
    'InvalidArgument',
    `is ${kind}: only files, directories and symlinks can be checkpointed`,
    {
      operation: 'scan',
      key: abs,
    },
  );
}
