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
   * A zero extent is cut here, and at or past it the scan stops at the first boundary that any
   * scan starting at `segmentEnd` shares: `segmentEnd` itself, or the start of a zero run.
   */
  segmentEnd: number;
  /** Past `segmentEnd`, the scan stops at the first data chunk boundary at or after this offset. */
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
  const out: Extent[] = [];
  let pos = range.start;
  let r = 0;
  while (pos < fileSize) {
    while (r < runs.length && (runs[r + 1] as number) <= pos) r += 2;
    const runStart = r < runs.length ? (runs[r] as number) : fileSize;
    const inRun = runStart <= pos;
    if (pos >= range.segmentEnd && (pos === range.segmentEnd || inRun || pos >= range.stitchEnd)) break;
    if (pos !== range.start && range.joinAt?.has(pos)) break;
    let end: number;
    if (inRun) {
      end = Math.min(runs[r + 1] as number, range.segmentEnd);
    } else {
      const limit = Math.min(runStart, pos + p.maxSize);
      if (limit > bufEnd) {
        throw new StoreError(
          'Internal',
          `scan at ${pos} needs bytes up to ${limit}, buffer ends at ${bufEnd}`,
          {
            operation: 'chunk',
          },
        );
      }
      end = bufStart + cut(buf, pos - bufStart, limit - bufStart, p, Math.min(runStart, bufEnd) - bufStart);
    }
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
