import { createHash } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededBytes } from './bytes.js';

/** Options of {@link makeCheckpoint}. */
export interface CheckpointOptions {
  /** Seeds every file's bytes. Default 1. */
  seed?: number;
  /** Multiplies the length of each part of `pages-1.img` (6.3 MiB at 1). Default 1. */
  pagesScale?: number;
}

/**
 * A small CRIU-like checkpoint in `dir` (created): `pages-1.img` with runs of zeros between its
 * random parts, `pages-2.img`, 20 small `core-*.img`, an inventory, an empty file, a file of mode
 * 0640, and a nested `rootfs/` with a symbolic link. 27 files, a symlink and 3 folders below
 * `dir`; about 7.1 MiB (4.8 MiB of them random) at `pagesScale` 1. Returns `dir`.
 */
export async function makeCheckpoint(dir: string, options: CheckpointOptions = {}): Promise<string> {
  const { seed = 1, pagesScale = 1 } = options;
  const scaled = (bytes: number) => Math.round(bytes * pagesScale);
  await mkdir(path.join(dir, 'rootfs/cache/triton'), { recursive: true });
  const pages = Buffer.concat([
    seededBytes(scaled(3 << 20), seed),
    Buffer.alloc(scaled(2 << 20)),
    seededBytes(scaled(1 << 20), seed + 1),
    Buffer.alloc(scaled(300 << 10)),
  ]);
  await writeFile(path.join(dir, 'pages-1.img'), pages);
  await writeFile(path.join(dir, 'pages-2.img'), seededBytes(700 << 10, seed + 2));
  for (let i = 0; i < 20; i++)
    await writeFile(path.join(dir, `core-${100 + i}.img`), seededBytes(200 + i * 37, seed + 10 + i));
  await writeFile(path.join(dir, 'inventory.img'), 'inventory');
  await writeFile(path.join(dir, 'empty.img'), '');
  await writeFile(path.join(dir, 'cuda_pids'), '1234\n');
  await writeFile(path.join(dir, 'rootfs/cache/triton/kernel.bin'), seededBytes(90_000, seed + 3));
  await writeFile(path.join(dir, 'rootfs/cache/README'), 'cached kernels');
  await chmod(path.join(dir, 'cuda_pids'), 0o640);
  await symlink('cache/README', path.join(dir, 'rootfs/readme-link'));
  return dir;
}

/**
 * One entry of {@link readTree}: a file by its mode, size and SHA-256 (hex); with `times`, files
 * and folders also by their modification time in whole milliseconds.
 */
export type TreeEntry =
  | { type: 'file'; mode: number; size: number; sha: string; mtimeMs?: number }
  | { type: 'dir'; mode: number; mtimeMs?: number }
  | { type: 'symlink'; target: string };

/** What {@link readTree} reads besides paths, types, modes, link targets and contents. */
export interface TreeOptions {
  /** Files' and folders' modification times too (read before anything below them). Default false. */
  times?: boolean;
}

/** Everything below `dir`, by relative path (`/`-separated, sorted): two equal trees read equal. */
export async function readTree(dir: string, options: TreeOptions = {}): Promise<Record<string, TreeEntry>> {
  const time = (st: { mtimeMs: number }) => (options.times ? { mtimeMs: Math.floor(st.mtimeMs) } : {});
  const out: Record<string, TreeEntry> = {};
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = path.join(dir, p);
      const st = await lstat(abs);
      if (st.isSymbolicLink()) out[p] = { type: 'symlink', target: await readlink(abs) };
      else if (st.isDirectory()) {
        out[p] = { type: 'dir', mode: st.mode & 0o7777, ...time(st) };
        await walk(p);
      } else {
        const data = await readFile(abs);
        const sha = createHash('sha256').update(data).digest('hex');
        out[p] = { type: 'file', mode: st.mode & 0o7777, size: data.length, sha, ...time(st) };
      }
    }
  };
  await walk('');
  return out;
}

/** One SHA-256 (hex) of everything {@link readTree} reads: equal for equal trees. */
export async function treeDigest(dir: string, options: TreeOptions = {}): Promise<string> {
  return createHash('sha256')
    .update(JSON.stringify(await readTree(dir, options)))
    .digest('hex');
}
