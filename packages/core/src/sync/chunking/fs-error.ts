import type { StoreErrorCode } from '../../errors.js';

/** The StoreError code for a failed file-system call (`errno` code such as `ENOENT`). */
export function fsErrorCode(err: unknown): StoreErrorCode {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'NotFound';
    case 'EACCES':
    case 'EPERM':
      return 'PermissionDenied';
    case 'EISDIR':
    case 'ELOOP': // opened without following a symbolic link
      return 'InvalidArgument';
    default:
      return 'Internal';
  }
}
