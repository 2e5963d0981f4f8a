import type { Segment } from './page-content.js';
import type { Rng } from './rng.js';

/** A half-open range of page positions `[start, end)` within a file. */
export interface PageRun {
  start: number;
  end: number;
}

/** Number of pages the segments cover. */
export function countPages(segments: readonly Segment[]): number {
  return segments.reduce((sum, s) => sum + s.pages, 0);
}

/** Pages `[offset, offset + pages)` of `segment`, as a segment of their own. */
export function pieceOf(segment: Segment, offset: number, pages: number): Segment {
  return { ...segment, start: segment.kind === 'zero' ? 0 : segment.start + offset, pages };
}

/** Joins neighbours that continue each other (zero after zero, or the next pages of the same stream). */
export function normalize(segments: readonly Segment[]): Segment[] {
  const out: Segment[] = [];
  for (const s of segments) {
    if (s.pages <= 0) continue;
    const last = out.at(-1);
    const continues =
      last?.kind === s.kind &&
      (s.kind === 'zero' || (last.stream === s.stream && last.start + last.pages === s.start));
    if (last && continues) out[out.length - 1] = { ...last, pages: last.pages + s.pages };
    else out.push(s);
  }
  return out;
}

/** The segments covering page positions `[from, to)`. */
export function sliceSegments(segments: readonly Segment[], from: number, to: number): Segment[] {
  const out: Segment[] = [];
  let pos = 0;
  for (const s of segments) {
    const start = Math.max(from, pos);
    const end = Math.min(to, pos + s.pages);
    if (start < end) out.push(pieceOf(s, start - pos, end - start));
    pos += s.pages;
    if (pos >= to) break;
  }
  return out;
}

/** Removes `remove` pages at position `at` and inserts `insert` there: what follows shifts. */
export function spliceSegments(
  segments: readonly Segment[],
  at: number,
  remove: number,
  insert: readonly Segment[],
): Segment[] {
  const total = countPages(segments);
  return normalize([
    ...sliceSegments(segments, 0, at),
    ...insert,
    ...sliceSegments(segments, at + remove, total),
  ]);
}

/**
 * Replaces the pages inside sorted, disjoint `runs` by what `replace` returns for each piece
 * (a piece is the part of one segment inside one run; return it unchanged to keep it).
 */
export function replaceRuns(
  segments: readonly Segment[],
  runs: readonly PageRun[],
  replace: (piece: Segment) => Segment[],
): Segment[] {
  const out: Segment[] = [];
  let r = 0;
  let pos = 0;
  for (const s of segments) {
    const end = pos + s.pages;
    let at = pos;
    while (at < end) {
      while (r < runs.length && runs[r]!.end <= at) r++;
      const run = runs[r];
      if (!run || run.start >= end) {
        out.push(pieceOf(s, at - pos, end - at));
        break;
      }
      const stop = at < run.start ? run.start : Math.min(run.end, end);
      const piece = pieceOf(s, at - pos, stop - at);
      if (at < run.start) out.push(piece);
      else out.push(...replace(piece));
      at = stop;
    }
    pos = end;
  }
  return normalize(out);
}

/**
 * Clustered runs covering about `fraction` of `pages` positions: run lengths geometric with mean
 * `meanRun` (≥ 1), gaps geometric with the mean that makes the covered share `fraction`.
 */
export function clusteredRuns(rng: Rng, pages: number, fraction: number, meanRun: number): PageRun[] {
  if (fraction <= 0 || pages <= 0) return [];
  const meanGap = (meanRun * (1 - fraction)) / fraction;
  const runs: PageRun[] = [];
  let pos = rng.geometric(meanGap);
  while (pos < pages) {
    const end = Math.min(pages, pos + 1 + rng.geometric(meanRun - 1));
    runs.push({ start: pos, end });
    pos = end + rng.geometric(meanGap);
  }
  return runs;
}
