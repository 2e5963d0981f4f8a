import type { CheckpointPlan } from './model.js';
import { PAGE_BYTES } from './options.js';

/** What a version of the workload holds. */
export interface CheckpointSummary {
  version: number;
  /** Number of files, empty ones included. */
  files: number;
  /** Number of subdirectories (every level of `rootfs/…`). */
  directories: number;
  emptyFiles: number;
  /** Total size of all files. */
  bytes: number;
  pagesFiles: number;
  pagesBytes: number;
  /** Bytes inside all-zero pages. */
  zeroBytes: number;
  /** `zeroBytes / bytes`. */
  zeroFraction: number;
}

/** Counts files, directories and bytes of a plan (nothing is read or written). */
export function summarizePlan(plan: CheckpointPlan): CheckpointSummary {
  const directories = new Set<string>();
  let bytes = 0;
  let zeroBytes = 0;
  let pagesBytes = 0;
  for (const file of plan.files) {
    const parts = file.path.split('/');
    for (let i = 1; i < parts.length; i++) directories.add(parts.slice(0, i).join('/'));
    bytes += file.size;
    if (file.group === 'pages') pagesBytes += file.size;
    let pos = 0;
    for (const s of file.segments) {
      const length = Math.max(0, Math.min(s.pages * PAGE_BYTES, file.size - pos));
      if (s.kind === 'zero') zeroBytes += length;
      pos += s.pages * PAGE_BYTES;
    }
  }
  return {
    version: plan.version,
    files: plan.files.length,
    directories: directories.size,
    emptyFiles: plan.files.filter((f) => f.size === 0).length,
    bytes,
    pagesFiles: plan.files.filter((f) => f.group === 'pages').length,
    pagesBytes,
    zeroBytes,
    zeroFraction: bytes > 0 ? zeroBytes / bytes : 0,
  };
}
