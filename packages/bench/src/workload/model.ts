import { PAGE_BYTES, type WorkloadConfig } from './options.js';
import type { PageKind, Segment } from './page-content.js';
import type { WorkloadSeed } from './rng.js';

/**
 * Which part of a CRIU image directory a file plays:
 * `pages` (`pages-N.img`), `medium` (ghost files, tmpfs archives, pipe data), `rootfs` (the nested
 * tree of compiled-kernel caches) or `small` (per-process, per-thread and shared images).
 */
export type FileGroup = 'pages' | 'medium' | 'rootfs' | 'small';

/** One file of a planned checkpoint: its bytes are those of its segments, cut at `size`. */
export interface PlannedFile {
  /** Relative path with `/` separators, e.g. `pages-1.img` or `rootfs/root/.triton/cache/…`. */
  path: string;
  group: FileGroup;
  size: number;
  /** Cover `ceil(size / 4096)` pages; empty for an empty file. */
  segments: Segment[];
  /** For per-process and per-thread files: the name is `<prefix>-<id>.img`, renamed when ids churn. */
  owner?: { prefix: string; id: number };
}

/** A process of the checkpointed tree: `tids[0]` is its main thread, whose id is the pid. */
export interface ProcessInfo {
  pid: number;
  tids: number[];
}

/**
 * The complete description of one version of a workload: every file and every page's content.
 * Version n + 1 is computed from version n's plan alone, so any version can be written (or
 * compared with another) without the previous one on disk.
 */
export interface CheckpointPlan {
  seed: WorkloadSeed;
  version: number;
  config: WorkloadConfig;
  files: PlannedFile[];
  processes: ProcessInfo[];
  /** The next unused stream number. */
  nextStream: number;
}

/** The name of a per-process or per-thread file. */
export function ownedName(prefix: string, id: number): string {
  return `${prefix}-${id}.img`;
}

/** Main content kind of a non-pages file (what its rewritten parts are made of). */
export function fileKind(file: PlannedFile): PageKind {
  return file.segments[0]?.kind ?? 'text';
}

/** A fresh single-stream segment list for `size` bytes of `kind`. */
export function freshContent(plan: { nextStream: number }, kind: PageKind, size: number): Segment[] {
  const pages = Math.ceil(size / PAGE_BYTES);
  if (pages === 0) return [];
  return [{ kind, stream: kind === 'zero' ? 0 : plan.nextStream++, start: 0, pages }];
}
