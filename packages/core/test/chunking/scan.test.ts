import { describe, expect, it } from 'vitest';
import { chunkBuffer } from '../../src/sync/chunking/chunk-buffer.js';
import { chunkParams } from '../../src/sync/chunking/options.js';
import { type ScanRange, scanExtents, scanWindow } from '../../src/sync/chunking/scan.js';
import type { ChunkingOptions } from '../../src/sync/chunking/types.js';
import { buildFile, KiB } from './fixtures.js';

const small: ChunkingOptions = {
  minSize: 1 * KiB,
  avgSize: 4 * KiB,
  maxSize: 16 * KiB,
  zeroRunMin: 16 * KiB,
};
const p = chunkParams(small);
const file = buildFile(11, [
  ['random', 200 * KiB + 5],
  ['zero', 60 * KiB + 4091], // a run that is not page-aligned
  ['random', 30 * KiB],
  ['zero', 12 * KiB],
  ['pages', 100 * KiB],
  ['zero', 300 * KiB],
  ['fill', 90 * KiB],
  ['random', 250 * KiB + 77],
]);
const strip = (xs: { offset: number; length: number; zero: boolean }[]) =>
  xs.map((x) => [x.offset, x.length, x.zero]);

/** Scans `range` seeing only the bytes of its scan window, as a worker does. */
function scanFromWindow(range: ScanRange) {
  const w = scanWindow(range, file.length, p);
  return scanExtents(file.subarray(w.start, w.end), w.start, file.length, range, p);
}

describe('scanExtents', () => {
  it('gives the same extents from the scan window alone as from the whole file', () => {
    for (let start = 0; start < file.length; start += 20 * KiB) {
      const segmentEnd = Math.min(file.length, start + 96 * KiB);
      const range = { start, segmentEnd, stitchEnd: Math.min(file.length, segmentEnd + 24 * KiB) };
      expect(strip(scanFromWindow(range))).toEqual(strip(scanExtents(file, 0, file.length, range, p)));
    }
  });

  it('continues the sequential result exactly from any of its boundaries', () => {
    const reference = chunkBuffer(file, small);
    for (const c of reference.filter((_, i) => i % 5 === 0)) {
      const tail = reference.filter((x) => x.offset >= c.offset);
      const scanned = scanFromWindow({ start: c.offset, segmentEnd: file.length, stitchEnd: file.length });
      expect(strip(scanned)).toEqual(tail.map((x) => [x.offset, x.length, x.hash === null]));
    }
  });

  it('cuts a zero run at the segment end and stops there', () => {
    const runStart = 204 * KiB; // the first whole zero page after the random prefix
    const segmentEnd = runStart + 20 * KiB;
    const out = scanFromWindow({ start: 150 * KiB, segmentEnd, stitchEnd: segmentEnd + 50 * KiB });
    expect(out.at(-1)).toEqual({ offset: runStart, length: segmentEnd - runStart, zero: true });
  });

  it('stops past the segment end where it meets the scan that starts there, not at stitchEnd', () => {
    const reference = chunkBuffer(file, small);
    let checked = 0;
    for (let segmentEnd = 8 * KiB; segmentEnd < 200 * KiB; segmentEnd += 12 * KiB) {
      const next = scanFromWindow({ start: segmentEnd, segmentEnd: file.length, stitchEnd: file.length });
      const nextStarts = new Set(next.map((x) => x.offset));
      const meet = reference.find((c) => c.offset > segmentEnd && nextStarts.has(c.offset))!.offset;
      const range = { start: 0, segmentEnd, stitchEnd: Math.min(file.length, segmentEnd + 64 * KiB) };
      const out = scanFromWindow(range);
      const end = out.at(-1)!.offset + out.at(-1)!.length;
      if (meet <= range.stitchEnd) {
        expect(end).toBe(meet);
        checked++;
      }
      // a prefix of the sequential result
      expect(strip(out)).toEqual(
        reference.slice(0, out.length).map((x) => [x.offset, x.length, x.hash === null]),
      );
    }
    expect(checked).toBeGreaterThan(10);
  });

  it('stops past the segment end at the first boundary in joinAt', () => {
    const reference = chunkBuffer(file, small);
    const target = reference[20]!;
    const out = scanFromWindow({
      start: 0,
      segmentEnd: file.length,
      stitchEnd: file.length,
      joinAt: new Set([target.offset, target.offset + target.length]),
    });
    expect(out.at(-1)!.offset + out.at(-1)!.length).toBe(target.offset);
  });
});
