import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import pLimit, { type LimitFunction } from 'p-limit';
import { StoreError } from '../errors.js';
import { pathProblem } from './rel-path.js';
import { settleAll } from './settle.js';
import { type FileStamp, stampOf } from './stamp.js';

/** One thing found in a checkpoint directory. Paths are relative, `/`-separated. */
export type ScannedEntry =
  | { type: 'file'; path: string; abs: string; mode: number; size: number; mtimeMs: number; stat: FileStamp }
  | { type: 'dir'; path: string; abs: string; mode: number; mtimeMs: number }
  | { type: 'symlink'; path: string; abs: string; target: string };

/** File-system calls a scan keeps in flight: one at a time costs a thread-pool round trip per entry. */
const SCAN_CALLS = 16;

/**
 * Lists a checkpoint directory: regular files, directories and symbolic links (stored as links,
 * never followed), depth first, sorted by name, parents before children. Sockets, devices and
 * FIFOs cannot be checkpointed and fail with `InvalidArgument` naming the path. `onEntry` sees
 * each entry as soon as it is known (in no particular order), before the whole list is.
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
  await walk(root, '', pLimit(SCAN_CALLS), out, onEntry);
  return out;
}

/** Appends the entries under `rel` to `out` in order; their `lstat`s and subdirectories run concurrently. */
async function walk(
  root: string,
  rel: string,
  limit: LimitFunction,
  out: ScannedEntry[],
  onEntry?: (entry: ScannedEntry) => void,
): Promise<void> {
  const dir = rel ? path.join(root, rel) : root;
  const names = (await limit(() => readdir(dir))).sort((a, b) =>
    Buffer.compare(Buffer.from(a), Buffer.from(b)),
  );
  const paths = names.map((name) => {
    const relPath = rel ? `${rel}/${name}` : name;
    const abs = path.join(dir, name);
    const problem = pathProblem(relPath);
    if (problem)
      throw new StoreError('InvalidArgument', `unsupported file name: ${problem}`, {
        operation: 'scan',
        key: abs,
      });
    return { relPath, abs };
  });
  const entries = await settleAll(
    paths.map(({ relPath, abs }) =>
      limit(async () => {
        const entry = await entryOf(relPath, abs);
        onEntry?.(entry);
        return entry;
      }),
    ),
  );
  const subtrees = await settleAll(
    entries.map(async (entry) => {
      const below: ScannedEntry[] = [];
      if (entry.type === 'dir') await walk(root, entry.path, limit, below, onEntry);
      return below;
    }),
  );
  entries.forEach((entry, i) => {
    out.push(entry);
    for (const e of subtrees[i]!) out.push(e);
  });
}

async function entryOf(relPath: string, abs: string): Promise<ScannedEntry> {
  const st = await lstat(abs, { bigint: true });
  const mode = Number(st.mode & 0o7777n);
  const mtimeMs = Number(st.mtimeNs / 1000n) / 1000;
  if (st.isFile()) {
    return { type: 'file', path: relPath, abs, mode, size: Number(st.size), mtimeMs, stat: stampOf(st) };
  }
  if (st.isDirectory()) return { type: 'dir', path: relPath, abs, mode, mtimeMs };
  if (st.isSymbolicLink()) return { type: 'symlink', path: relPath, abs, target: await readlink(abs) };
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
