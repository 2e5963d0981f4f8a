import { StoreError, type StoreErrorCode } from '@ckpt/core';

/**
 * How each `errno` code reads as a {@link StoreError} code. Decisions worth knowing:
 * - `ENOTDIR`/`EISDIR`/`ENOTEMPTY`/`ELOOP` mean the key cannot map to a plain file here (a key
 *   `a/b` under an object `a`, a key `a` over a folder `a`, a symlink): `InvalidArgument`.
 *   `AlreadyExists` is kept for "a create-only put found the key".
 * - `EXDEV`: `Unsupported` (a mount point inside the root: renames cannot cross it).
 * - `ENOSPC`, `EDQUOT`, `EFBIG`: `Unavailable` but not retryable (a full disk stays full).
 * - `EIO`, `EAGAIN`, `EBUSY`, `EMFILE`, `ENFILE`, `ETIMEDOUT`, `ESTALE`: `Unavailable`, retryable.
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
  ETIMEDOUT: 'Unavailable',
  ESTALE: 'Unavailable',
};

const NOT_RETRYABLE = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

/** The `errno` code of `err` (`'ENOENT'`, …), or undefined. */
export function errnoOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** `err` as a StoreError naming `operation` and `key`; StoreErrors pass through unchanged. */
export function fsError(err: unknown, operation: string, key?: string): StoreError {
  if (StoreError.is(err)) return err;
  if ((err as Error | null)?.name === 'AbortError') {
    return new StoreError('Aborted', 'the operation was aborted', { operation, key, cause: err });
  }
  const errno = errnoOf(err);
  const code: StoreErrorCode = (errno !== undefined ? CODES[errno] : undefined) ?? 'Internal';
  const detail = errno ? `${errno}: ${describe(errno)}` : String((err as Error | null)?.message ?? err);
  const options = { operation, key, cause: err };
  if (errno && NOT_RETRYABLE.has(errno))
    return new StoreError(code, detail, { ...options, retryable: false });
  return new StoreError(code, detail, options);
}

function describe(errno: string): string {
  switch (errno) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only filesystem';
    case 'ENOTDIR':
      return 'a parent of the key is an object, not a folder';
    case 'EISDIR':
    case 'ENOTEMPTY':
      return 'the key is a folder of other keys';
    case 'EXDEV':
      return 'the key is on another filesystem than the root (a mount point inside the root)';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space left on the filesystem';
    default:
      return 'filesystem error';
  }
}
