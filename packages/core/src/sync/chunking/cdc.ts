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
  const gear = GEAR;
  const maskStrict = p.maskStrict;
  const maskLoose = p.maskLoose;
  let h = 0;
  let i = start + p.minSize;
  for (; i < strictEnd; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskStrict) === 0) return i + 1;
  }
  for (; i < maxEnd; i++) {
    h = ((h << 1) + (gear[buf[i] as number] as number)) | 0;
    if ((h & maskLoose) === 0) return i + 1;
  }
  return maxEnd;
}
