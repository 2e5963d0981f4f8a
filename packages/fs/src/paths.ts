import path from 'node:path';
import { StoreError } from '@ckpt/core';
import { validateKey } from '@ckpt/core/backend';

/**
 * The folder at the root that holds temp files (`tmp/`) and per-key locks (`locks/`). No key can
 * address it and `list` never shows it.
 */
export const INTERNAL_DIR = '.ckpt-fs';

/** Validates `key` (core's rules, and not inside {@link INTERNAL_DIR}) and returns its segments. */
export function keySegments(key: string, operation: string): string[] {
  validateKey(key, operation);
  const segments = key.split('/');
  if (segments[0] === INTERNAL_DIR) {
    throw new StoreError(
      'InvalidArgument',
      `keys under "${INTERNAL_DIR}/" are reserved by the filesystem store`,
      {
        operation,
        key,
      },
    );
  }
  return segments;
}

/** The file path of a key made of `segments`: always inside `root` (segments are validated). */
export function segmentsPath(root: string, segments: string[]): string {
  return path.join(root, ...segments);
}
