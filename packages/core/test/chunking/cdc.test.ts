import { describe, expect, it } from 'vitest';
import { cutPoint } from '../../src/sync/chunking/cdc.js';
import { GEAR } from '../../src/sync/chunking/gear.js';
import { type ChunkParams, chunkParams } from '../../src/sync/chunking/options.js';
import { buildFile, KiB, seededBytes } from './fixtures.js';

/** The textbook loop: one byte per step, one mask for each side of avgSize. */
function referenceCut(buf: Uint8Array, start: number, end: number, p: ChunkParams): number {
  if (end - start <= p.minSize) return end;
  const maxEnd = Math.min(end, start + p.maxSize);
  let h = 0;
  for (let i = start + p.minSize; i < maxEnd; i++) {
    h = ((h << 1) + (GEAR[buf[i] as number] as number)) | 0;
    if ((h & (i < start + p.avgSize ? p.maskStrict : p.maskLoose)) === 0) return i + 1;
  }
  return maxEnd;
}

const PARAMS: [string, ChunkParams][] = [
  ['the defaults', chunkParams()],
  [
    'small chunks',
    chunkParams({ minSize: 1 * KiB, avgSize: 4 * KiB, maxSize: 16 * KiB, zeroRunMin: 16 * KiB }),
  ],
  // fewer than 32 bytes hashed before avgSize, and lengths that are no multiple of 16
  [
    'minSize just under avgSize',
    chunkParams({ minSize: 250, avgSize: 256, maxSize: 4099, zeroRunMin: 4096 }),
  ],
];

describe('cutPoint (unrolled) equals the one-byte-per-step reference', () => {
  const inputs: [string, Uint8Array][] = [
    ['random bytes', seededBytes(11, 1536 * KiB + 7)],
    // repeated pages never clear the strict mask: every cut is in the loose part or at maxSize
    ['repeated pages', buildFile(12, [['pages', 1024 * KiB]])],
    ['one repeated byte', buildFile(13, [['fill', 600 * KiB]])],
    [
      'mixed',
      buildFile(14, [
        ['random', 100 * KiB + 3],
        ['pages', 300 * KiB],
        ['fill', 70 * KiB],
        ['random', 500 * KiB],
      ]),
    ],
  ];
  for (const [name, p] of PARAMS) {
    it(`with ${name}`, () => {
      for (const [, buf] of inputs) {
        for (let start = 0; start < buf.length; start += 4093) {
          for (const end of [
            buf.length,
            Math.min(buf.length, start + p.avgSize + 5),
            start + p.minSize + 17,
          ]) {
            if (end > buf.length) continue;
            expect(cutPoint(buf, start, end, p)).toBe(referenceCut(buf, start, end, p));
          }
        }
      }
    });
  }
});
