import { GEAR } from './gear.js';
import type { ChunkParams } from './options.js';

/**
 * Where the data chunk starting at `start` ends (exclusive), looking no further than `end`:
 * FastCDC's gear hash `h = (h << 1) + GEAR[byte]` (32 bits), computed from `start + minSize`
 * (min-size skipping), cut after the first byte whose hash clears `maskStrict` before
 * `start + avgSize` or `maskLoose` after it, else at `start + maxSize` or `end`.
 */
export function cutPoint(buf: Uint8Array, start: number, end: number, p: ChunkParams): number {
  if (end - start <= p.minSize) return end;
  const maxEnd = Math.min(end, start + p.maxSize);
  const strictEnd = Math.min(maxEnd, start + p.avgSize);
  const from = start + p.minSize;
  const strict = firstCut(buf, from, strictEnd, p.maskStrict, 0);
  if (strict !== 0) return strict;
  // 32 shifts push a byte out of the 32-bit hash: the last 32 bytes give the state at strictEnd
  const h = gearHash(buf, Math.max(from, strictEnd - 32), strictEnd);
  return firstCut(buf, strictEnd, maxEnd, p.maskLoose, h) || maxEnd;
}

/** The gear hash of `buf[from, to)` from state 0. */
function gearHash(buf: Uint8Array, from: number, to: number): number {
  let h = 0;
  for (let i = from; i < to; i++) h = ((h << 1) + (GEAR[buf[i] as number] as number)) | 0;
  return h;
}

/**
 * Rolls the hash from state `h` over `b[from, to)` and returns the offset just past the first
 * byte whose hash clears `mask`, or 0 when none does. Unrolled 16 times, because the loop's own
 * bookkeeping, not the hash, bounds a plain loop (docs/benchmarks.md, "Chunking parameters").
 */
function firstCut(b: Uint8Array, from: number, to: number, mask: number, h: number): number {
  const g = GEAR;
  let i = from;
  for (; i <= to - 16; i += 16) {
    h = ((h << 1) + (g[b[i] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 1;
    h = ((h << 1) + (g[b[i + 1] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 2;
    h = ((h << 1) + (g[b[i + 2] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 3;
    h = ((h << 1) + (g[b[i + 3] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 4;
    h = ((h << 1) + (g[b[i + 4] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 5;
    h = ((h << 1) + (g[b[i + 5] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 6;
    h = ((h << 1) + (g[b[i + 6] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 7;
    h = ((h << 1) + (g[b[i + 7] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 8;
    h = ((h << 1) + (g[b[i + 8] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 9;
    h = ((h << 1) + (g[b[i + 9] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 10;
    h = ((h << 1) + (g[b[i + 10] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 11;
    h = ((h << 1) + (g[b[i + 11] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 12;
    h = ((h << 1) + (g[b[i + 12] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 13;
    h = ((h << 1) + (g[b[i + 13] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 14;
    h = ((h << 1) + (g[b[i + 14] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 15;
    h = ((h << 1) + (g[b[i + 15] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 16;
  }
  for (; i < to; i++) {
    h = ((h << 1) + (g[b[i] as number] as number)) | 0;
    if ((h & mask) === 0) return i + 1;
  }
  return 0;
}
