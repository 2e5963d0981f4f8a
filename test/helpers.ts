import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';

/** Deterministic pseudo-random bytes (xorshift32; fast, seeded, not crypto). */
export function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  let x = seed >>> 0 || 1;
  for (let i = 0; i + 4 <= size; i += 4) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out.writeUInt32LE(x, i);
  }
  return out;
}

export type TreeEntry =
  | { type: 'file'; mode: number; size: number; sha: string }
  | { type: 'dir'; mode: number }
  | { type: 'symlink'; target: string };

/** Everything in a directory tree, by relative path (files by SHA-256). */
export async function readTree(dir: string, rel = '', out: Record<string, TreeEntry> = {}) {
  for (const name of (await readdir(path.join(dir, rel))).sort()) {
    const p = rel ? `${rel}/${name}` : name;
    const abs = path.join(dir, p);
    const st = await lstat(abs);
    if (st.isSymbolicLink()) out[p] = { type: 'symlink', target: await readlink(abs) };
    else if (st.isDirectory()) {
      out[p] = { type: 'dir', mode: st.mode & 0o7777 };
      await readTree(dir, p, out);
    } else {
      const sha = createHash('sha256')
        .update(await readFile(abs))
        .digest('hex');
      out[p] = { type: 'file', mode: st.mode & 0o7777, size: st.size, sha };
    }
  }
  return out;
}
