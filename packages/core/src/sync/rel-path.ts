import path from 'node:path';
import { StoreError } from '../errors.js';

/**
 * Why `p` is not a safe relative path inside a checkpoint, or undefined. A safe path is POSIX,
 * relative, made of non-empty segments other than `.` and `..`, with no NUL byte, at most 4096
 * bytes and 255 bytes per segment. Joined to any root it can only name something inside it.
 */
export function pathProblem(p: string): string | undefined {
  if (p.length === 0) return 'empty path';
  if (p.includes('\0')) return 'contains a NUL byte';
  if (p.startsWith('/')) return 'absolute path';
  if (Buffer.byteLength(p) > 4096) return 'longer than 4096 bytes';
  for (const segment of p.split('/')) {
    if (segment === '') return 'empty segment';
    if (segment === '.' || segment === '..') return `"${segment}" segment`;
    if (Buffer.byteLength(segment) > 255) return 'a segment longer than 255 bytes';
  }
  return undefined;
}

/** `root/p` for a safe `p`; throws `Integrity` otherwise (a second line of defence). */
export function resolveInside(root: string, p: string): string {
  const problem = pathProblem(p);
  const full = path.join(root, ...p.split('/'));
  if (problem || !full.startsWith(root + path.sep)) {
    throw new StoreError('Integrity', `unsafe path: ${problem ?? 'escapes the directory'}`, {
      operation: 'path',
      key: JSON.stringify(p),
    });
  }
  return full;
}
