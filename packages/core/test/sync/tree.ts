import { createHash, randomBytes } from 'node:crypto';
import { chmod, lstat, mkdir, readdir, readFile, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Chunking small enough that the test trees have many chunks and several packs. */
export const SMALL_CHUNKING = {
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
  zeroRunMin: 64 * 1024,
};

/** Deterministic pseudo-random bytes (not crypto: fast, seeded). */
export function bytes(size: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, Math.min(i, size - 4));
  }
  return out;
}

/** A small CRIU-like checkpoint: pages with zero runs, small files, a nested rootfs/, an empty file, a symlink. */
export async function makeCheckpoint(dir: string, seed = 1): Promise<void> {
  await mkdir(path.join(dir, 'rootfs/cache/triton'), { recursive: true });
  const pages = Buffer.concat([
    bytes(3 << 20, seed),
    Buffer.alloc(2 << 20),
    bytes(1 << 20, seed + 1),
    Buffer.alloc(300 << 10),
  ]);
  await writeFile(path.join(dir, 'pages-1.img'), pages);
  await writeFile(path.join(dir, 'pages-2.img'), bytes(700 << 10, seed + 2));
  for (let i = 0; i < 20; i++)
    await writeFile(path.join(dir, `core-${100 + i}.img`), bytes(200 + i * 37, seed + 10 + i));
  await writeFile(path.join(dir, 'inventory.img'), 'inventory');
  await writeFile(path.join(dir, 'empty.img'), '');
  await writeFile(path.join(dir, 'cuda_pids'), '1234\n');
  await writeFile(path.join(dir, 'rootfs/cache/triton/kernel.bin'), bytes(90_000, seed + 3));
  await writeFile(path.join(dir, 'rootfs/cache/README'), 'cached kernels');
  await chmod(path.join(dir, 'cuda_pids'), 0o640);
  await symlink('cache/README', path.join(dir, 'rootfs/readme-link'));
}

export type TreeEntry =
  | { type: 'file'; mode: number; size: number; sha: string }
  | { type: 'dir'; mode: number }
  | { type: 'symlink'; target: string };

/** Everything in a directory tree, by relative path. */
export async function readTree(
  dir: string,
  rel = '',
  out: Record<string, TreeEntry> = {},
): Promise<Record<string, TreeEntry>> {
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const abs = path.join(dir, p);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) out[p] = { type: 'symlink', target: await readlink(abs) };
    else if (st.isDirectory()) {
      out[p] = { type: 'dir', mode: st.mode & 0o7777 };
      await readTree(dir, p, out);
    } else {
      const data = await readFile(abs);
      out[p] = {
        type: 'file',
        mode: st.mode & 0o7777,
        size: data.length,
        sha: createHash('sha256').update(data).digest('hex'),
      };
    }
  }
  return out;
}

export function randomName(): string {
  return randomBytes(6).toString('hex');
}
