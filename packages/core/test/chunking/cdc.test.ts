import { seededBytes } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
// gear.wasm exists only in the build: run `npx turbo run build --filter=@ckpt/core` first.
import { WasmGear } from '../../dist/sync/chunking/gear-wasm.js';
import { cutPoint } from '../../src/sync/chunking/cdc.js';
import { GEAR } from '../../src/sync/chunking/gear.js';
import { type ChunkParams, chunkParams } from '../../src/sync/chunking/options.js';
import { buildFile, KiB } from './fixtures.js';

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

const inputs: [string, Uint8Array][] = [
  ['random bytes', seededBytes(1536 * KiB + 7, 11)],
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

/** Every `[start, end]` the checks try in `buf`: starts all over it, ends at, near and past avgSize. */
function* spans(buf: Uint8Array, p: ChunkParams): Generator<[number, number]> {
  for (let start = 0; start < buf.length; start += 4093) {
    for (const end of [buf.length, Math.min(buf.length, start + p.avgSize + 5), start + p.minSize + 17]) {
      if (end <= buf.length) yield [start, end];
    }
  }
}

// the reference walks every byte one step at a time: seconds on a busy machine
describe('cutPoint (unrolled) equals the one-byte-per-step reference', { timeout: 60_000 }, () => {
  for (const [name, p] of PARAMS) {
    it(`with ${name}`, () => {
      for (const [, buf] of inputs) {
        for (const [start, end] of spans(buf, p)) {
          expect(cutPoint(buf, start, end, p)).toBe(referenceCut(buf, start, end, p));
        }
      }
    });
  }
});

describe('WasmGear.cutPoint equals cutPoint', () => {
  for (const [name, p] of PARAMS) {
    it(`with ${name}, whatever the stretch copied at once`, () => {
      const gear = new WasmGear();
      for (const [, buf] of inputs) {
        for (const [start, end] of spans(buf, p)) {
          const expected = cutPoint(buf, start, end, p);
          // a cut with no look-ahead, one that copies to the buffer's end, then one reusing that copy
          expect(gear.cutPoint(buf, start, end, p, end)).toBe(expected);
          gear.begin(buf);
          expect(gear.cutPoint(buf, start, end, p, buf.length)).toBe(expected);
          expect(gear.cutPoint(buf, start, end, p, buf.length)).toBe(expected);
        }
      }
    });
  }

  it('reads a buffer afresh after begin(), and grows its memory for chunks larger than its page', () => {
    const p = chunkParams({
      minSize: 64 * KiB,
      avgSize: 1024 * KiB,
      maxSize: 16384 * KiB,
      zeroRunMin: 64 * KiB,
    });
    const buf = seededBytes(12 * 1024 * KiB, 21);
    const gear = new WasmGear();
    expect(gear.cutPoint(buf, 0, buf.length, p, buf.length)).toBe(cutPoint(buf, 0, buf.length, p));
    // same buffer object, new bytes: without begin() the copy would be stale
    buf.set(seededBytes(buf.length, 22));
    gear.begin(buf);
    expect(gear.cutPoint(buf, 0, buf.length, p, buf.length)).toBe(cutPoint(buf, 0, buf.length, p));
  });
});
