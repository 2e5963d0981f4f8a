import { StoreError, type StoreErrorCode } from './errors.js';

/**
 * How each `errno` code reads as a {@link StoreError} code, for local files and sockets alike.
 * - `ENOTDIR`/`EISDIR`/`ENOTEMPTY`/`ELOOP`: the path cannot be a plain file here (a key `a/b`
 *   under an object `a`, a key `a` over a folder `a`, a symbolic link): `InvalidArgument`.
 *   `AlreadyExists` is kept for "a create-only put found the key".
 * - `EXDEV`: `Unsupported` (a mount point inside a store's root: renames cannot cross it).
 * - `ENOSPC`, `EDQUOT`, `EFBIG`: `Unavailable` but not retryable (a full disk stays full).
 * - I/O hiccups and network failures: `Unavailable`, retryable.
 */
const CODES: Record<string, StoreErrorCode> = {
  ENOENT: 'NotFound',
  EACCES: 'PermissionDenied',
  EPERM: 'PermissionDenied',
  EROFS: 'PermissionDenied',
  EEXIST: 'AlreadyExists',
  ENOTDIR: 'InvalidArgument',
  EISDIR: 'InvalidArgument',
  ENOTEMPTY: 'InvalidArgument',
  ELOOP: 'InvalidArgument',
  ENAMETOOLONG: 'InvalidArgument',
  EXDEV: 'Unsupported',
  ENOSPC: 'Unavailable',
  EDQUOT: 'Unavailable',
  EFBIG: 'Unavailable',
  EIO: 'Unavailable',
  EAGAIN: 'Unavailable',
  EBUSY: 'Unavailable',
  EMFILE: 'Unavailable',
  ENFILE: 'Unavailable',
  ESTALE: 'Unavailable',
  ETIMEDOUT: 'Unavailable',
  ECONNRESET: 'Unavailable',
  ECONNREFUSED: 'Unavailable',
  ECONNABORTED: 'Unavailable',
  EPIPE: 'Unavailable',
  EHOSTUNREACH: 'Unavailable',
  ENETUNREACH: 'Unavailable',
  EAI_AGAIN: 'Unavailable',
};

const NOT_RETRYABLE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

const DETAILS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only filesystem',
  ENOTDIR: 'a parent of the path is a file, not a folder',
  EISDIR: 'the path is a folder',
  ENOTEMPTY: 'the path is a folder of other files',
  ELOOP: 'the path is a symbolic link',
  EXDEV: 'the path is on another filesystem (a mount point inside the root)',
  ENOSPC: 'no space left on the filesystem',
  EDQUOT: 'no space left on the filesystem (quota)',
};

/** The `errno` code of `err` (`'ENOENT'`, …), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9_]+$/.test(code) ? code : undefined;
}

/** The StoreError code an `errno` error reads as, or undefined when `err` has no known errno. */
export function errnoCode(err: unknown): StoreErrorCode | undefined {
  const errno = errnoOf(err);
  return errno === undefined ? undefined : CODES[errno];
}

/**
 * `err`, a failed file-system or socket call, as a StoreError naming `operation` and `key`, or
 * undefined when its `errno` code is not one this map knows.
 */
export function errnoError(err: unknown, operation: string, key?: string): StoreError | undefined {
  const errno = errnoOf(err);
  const code = errno === undefined ? undefined : CODES[errno];
  if (errno === undefined || code === undefined) return undefined;
  const detail = `${errno}: ${DETAILS[errno] ?? (code === 'Unavailable' ? 'transient failure' : 'system error')}`;
  return new StoreError(code, detail, {
    operation,
    key,
    cause: err,
    ...(NOT_RETRYABLE.has(errno) ? { retryable: false } : {}),
  });
}
