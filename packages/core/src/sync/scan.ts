import type { BigIntStats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { pathProblem } from './rel-path.js';

/** One thing found in a checkpoint directory. Paths are relative, `/`-separated. */
export type ScannedEntry =
  | { type: 'file'; path: string; abs: string; mode: number; size: number; mtimeMs: number; stat: FileStamp }
  | { type: 'dir'; path: string; abs: string; mode: number; mtimeMs: number }
  | { type: 'symlink'; path: string; abs: string; target: string };

/** What identifies a file's content cheaply: if all of it is unchanged, so are the bytes. */
export interface FileStamp {
  size: number;
  mtimeNs: string;
  ctimeNs: string;
  ino: string;
  dev: string;
}

export function stampOf(st: BigIntStats): FileStamp {
  return {
    size: Number(st.size),
    mtimeNs: st.mtimeNs.toString(),
    ctimeNs: st.ctimeNs.toString(),
    ino: st.ino.toString(),
    dev: st.dev.toString(),
  };
}

export function sameStamp(a: FileStamp | undefined, b: FileStamp | undefined): boolean {
  return (
    !!a &&
    !!b &&
    a.size === b.size &&
    a.mtimeNs === b.mtimeNs &&
    a.ctimeNs === b.ctimeNs &&
    a.ino === b.ino &&
    a.dev === b.dev
  );
}

/**
 * Lists a checkpoint directory: regular files, directories and symbolic links (stored as links,
 * never followed), depth first, sorted by name, parents before children. Sockets, devices and
 * FIFOs cannot be checkpointed and fail with `InvalidArgument` naming the path.
 */
export async function scanDirectory(root: string): Promise<ScannedEntry[]> {
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
  await walk(root, '', out);
  return out;
}

async function walk(root: string, rel: string, out: ScannedEntry[]): Promise<void> {
  const dir = rel ? path.join(root, rel) : root;
  const names = (await readdir(dir)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const name of names) {
    const relPath = rel ? `${rel}/${name}` : name;
    const abs = path.join(dir, name);
    const problem = pathProblem(relPath);
    if (problem)
      throw new StoreError('InvalidArgument', `unsupported file name: ${problem}`, {
        operation: 'scan',
        key: abs,
      });
    const st = await lstat(abs, { bigint: true });
    const mode = Number(st.mode & 0o7777n);
    const mtimeMs = Number(st.mtimeNs / 1000n) / 1000;
    if (st.isFile()) {
      out.push({ type: 'file', path: relPath, abs, mode, size: Number(st.size), mtimeMs, stat: stampOf(st) });
    } else if (st.isDirectory()) {
      out.push({ type: 'dir', path: relPath, abs, mode, mtimeMs });
      await walk(root, relPath, out);
    } else if (st.isSymbolicLink()) {
      out.push({ type: 'symlink', path: relPath, abs, target: await readlink(abs) });
    } else {
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
  }
}
