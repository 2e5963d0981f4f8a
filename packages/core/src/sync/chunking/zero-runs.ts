import { PAGE_SIZE } from './options.js';

const ZERO_PAGE = Buffer.alloc(PAGE_SIZE);

/**
 * The runs of at least `zeroRunMin` bytes of all-zero pages seen in `buf`, which holds the file
 * bytes from `bufStart` (a multiple of 4096) on: a flat list `[start0, end0, start1, end1, …]` of
 * file offsets. Only whole pages count (a file's partial last page is data). A run touching an
 * edge of `buf` is clipped to it: callers read `zeroRunMin` bytes of context around what they decide.
 */
export function findZeroRuns(
  buf: Uint8Array,
  bufStart: number,
  fileSize: number,
  zeroRunMin: number,
): number[] {
  const runs: number[] = [];
  const pagesEnd = Math.min(buf.length, Math.floor((fileSize - bufStart) / PAGE_SIZE) * PAGE_SIZE);
  let runStart = -1;
  for (let at = 0; at < pagesEnd; at += PAGE_SIZE) {
    if (ZERO_PAGE.compare(buf, at, at + PAGE_SIZE) === 0) {
      if (runStart < 0) runStart = at;
    } else if (runStart >= 0) {
      if (at - runStart >= zeroRunMin) runs.push(bufStart + runStart, bufStart + at);
      runStart = -1;
    }
  }
  if (runStart >= 0 && pagesEnd - runStart >= zeroRunMin) runs.push(bufStart + runStart, bufStart + pagesEnd);
  return runs;
}
