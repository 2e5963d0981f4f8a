import { createHash } from 'node:crypto';
import { StoreError } from '../../errors.js';
import { cutPoint } from './cdc.js';
import { type ChunkParams, PAGE_SIZE } from './options.js';
import { findZeroRuns } from './zero-runs.js';

/**
 * Where the data chunk at `buf[start]` ends, looking no further than `end`: cdc.ts `cutPoint`, or
 * an implementation with exactly its results (`WasmGear`). `ahead` is where the data stretch
 * ends (the next zero run or the buffer's end), for implementations that work a stretch at a time.
 */
export type CutPointFn = (
  buf: Uint8Array,
  start: number,
  end: number,
  p: ChunkParams,
  ahead: number,
) => number;

/** An extent before hashing: `zero` marks an all-zero run. */
export interface Extent {
  offset: number;
  length: number;
  zero: boolean;
}

/**
 * The part of a file one scan covers. The sequential scan of a whole file is
 * `{ start: 0, segmentEnd: size, stitchEnd: size }`; a segment of a parallel scan starts at
 * `start` as if a chunk began there, and runs on past `segmentEnd` until `stitchEnd` so that
 * the next segment's scan can be joined to it (see stitch.ts).
 */
export interface ScanRange {
  /** File offset where the scan starts, with a fresh chunk (or inside a zero run). */
  start: number;
  /**
   * A zero extent is cut here, and past it the scan stops at the first boundary it shares with
   * the scan that starts at `segmentEnd` (the next segment's): `segmentEnd` itself, the start of a
   * zero run, or a data chunk boundary, found by running that scan's cut points alongside.
   */
  segmentEnd: number;
  /** Past `segmentEnd`, the scan gives up at the first data chunk boundary at or after this offset. */
  stitchEnd: number;
  /** Offsets (past `start`) where the scan stops as soon as one is a boundary: where it joins another scan. */
  joinAt?: ReadonlySet<number>;
}

/** The file bytes `[start, end)` a scan of `range` must see: the range plus context for zero runs. */
export function scanWindow(
  range: ScanRange,
  fileSize: number,
  p: ChunkParams,
): { start: number; end: number } {
  const start = Math.max(0, Math.floor(range.start / PAGE_SIZE) * PAGE_SIZE - p.zeroRunMin);
  const lastByte = Math.max(range.segmentEnd, range.stitchEnd) + p.maxSize;
  const end = Math.min(fileSize, Math.ceil(lastByte / PAGE_SIZE) * PAGE_SIZE + p.zeroRunMin + PAGE_SIZE);
  return { start, end };
}

/**
 * The extents of `range`, from `buf` holding the file bytes of (at least) `scanWindow(range)`
 * starting at file offset `bufStart`. Zero runs are found first; every stretch between them is
 * chunked from its start, CDC state reset at each zero-run edge. `cut` finds chunk ends (default:
 * cdc.ts `cutPoint`).
 */
export function scanExtents(
  buf: Uint8Array,
  bufStart: number,
  fileSize: number,
  range: ScanRange,
  p: ChunkParams,
  cut: CutPointFn = cutPoint,
): Extent[] {
  const runs = findZeroRuns(buf, bufStart, fileSize, p.zeroRunMin);
  const bufEnd = bufStart + buf.length;
  /** The first zero run ending after `at`: its start (`fileSize` if none) and end. */
  const runAfter = (at: number, r: number) => {
    while (r < runs.length && (runs[r + 1] as number) <= at) r += 2;
    return { r, start: r < runs.length ? (runs[r] as number) : fileSize };
  };
  /** Where the data chunk at `at` ends (the next zero run starts at `runStart`). */
  const dataEnd = (at: number, runStart: number) => {
    const limit = Math.min(runStart, at + p.maxSize);
    if (limit > bufEnd) {
      throw new StoreError('Internal', `scan at ${at} needs bytes up to ${limit}, buffer ends at ${bufEnd}`, {
        operation: 'chunk',
      });
    }
    return bufStart + cut(buf, at - bufStart, limit - bufStart, p, Math.min(runStart, bufEnd) - bufStart);
  };
  // the next segment's scan: its next boundary, `fresh`, is moved on while behind `pos`; past a
  // zero run both scans stop at its start, so it is not followed into one
  let fresh = range.segmentEnd;
  let freshRun = 0;
  const out: Extent[] = [];
  let pos = range.start;
  let r = 0;
  while (pos < fileSize) {
    const next = runAfter(pos, r);
    r = next.r;
    const inRun = next.start <= pos;
    if (pos >= range.segmentEnd) {
      if (pos === range.segmentEnd || inRun || pos >= range.stitchEnd) break;
      while (fresh < pos) {
        const ahead = runAfter(fresh, freshRun);
        freshRun = ahead.r;
        fresh = ahead.start <= fresh ? Number.POSITIVE_INFINITY : dataEnd(fresh, ahead.start);
      }
      if (fresh === pos) break;
    }
    if (pos !== range.start && range.joinAt?.has(pos)) break;
    const end = inRun ? Math.min(runs[r + 1] as number, range.segmentEnd) : dataEnd(pos, next.start);
    out.push({ offset: pos, length: end - pos, zero: inRun });
    pos = end;
  }
  return out;
}

/** SHA-256 (lower-case hex) of each data extent's bytes; `null` for zero extents. */
export function hashExtents(
  buf: Uint8Array,
  bufStart: number,
  extents: readonly Extent[],
): (string | null)[] {
  return extents.map((x) => {
    if (x.zero) return null;
    const from = x.offset - bufStart;
    return createHash('sha256')
      .update(buf.subarray(from, from + x.length))
      .digest('hex');
  });
}
