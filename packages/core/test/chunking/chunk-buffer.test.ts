import { createHash } from 'node:crypto';
import { seededBytes } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { chunkBuffer } from '../../src/sync/chunking/chunk-buffer.js';
import { GEAR, GEAR_SEED } from '../../src/sync/chunking/gear.js';
import { DEFAULT_CHUNKING } from '../../src/sync/chunking/options.js';
import type { Chunk, ChunkingOptions } from '../../src/sync/chunking/types.js';
import { buildFile, KiB, MiB } from './fixtures.js';

const small: ChunkingOptions = {
  minSize: 1 * KiB,
  avgSize: 4 * KiB,
  maxSize: 16 * KiB,
  zeroRunMin: 16 * KiB,
};
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Extents cover the buffer in order without gaps; data chunks are hashed right and sized within bounds. */
function expectWellFormed(buf: Uint8Array, chunks: Chunk[], options: ChunkingOptions) {
  let at = 0;
  for (const [i, c] of chunks.entries()) {
    expect(c.offset).toBe(at);
    expect(c.length).toBeGreaterThan(0);
    const bytes = buf.subarray(c.offset, c.offset + c.length);
    if (c.hash === null) {
      expect(c.offset % 4096).toBe(0);
      expect(c.length % 4096).toBe(0);
      expect(c.length).toBeGreaterThanOrEqual(options.zeroRunMin);
      expect(bytes.every((b) => b === 0)).toBe(true);
    } else {
      expect(c.hash).toBe(sha256(bytes));
      expect(c.length).toBeLessThanOrEqual(options.maxSize);
      const regionEnds = i === chunks.length - 1 || chunks[i + 1]?.hash === null;
      if (!regionEnds) expect(c.length).toBeGreaterThan(options.minSize);
    }
    at += c.length;
  }
  expect(at).toBe(buf.length);
}

describe('chunkBuffer', () => {
  it('covers random data with well-formed chunks near the average size', () => {
    const buf = seededBytes(8 * MiB + 123, 1);
    const chunks = chunkBuffer(buf, DEFAULT_CHUNKING);
    expectWellFormed(buf, chunks, DEFAULT_CHUNKING);
    const mean = buf.length / chunks.length;
    expect(mean).toBeGreaterThan(DEFAULT_CHUNKING.avgSize * 0.8);
    expect(mean).toBeLessThan(DEFAULT_CHUNKING.avgSize * 1.6);
  });

  it('is deterministic and uses the defaults when given no options', () => {
    const buf = seededBytes(3 * MiB, 2);
    expect(chunkBuffer(buf)).toEqual(chunkBuffer(buf, DEFAULT_CHUNKING));
  });

  it('returns nothing for an empty buffer and one data chunk for a tiny one', () => {
    expect(chunkBuffer(new Uint8Array(0))).toEqual([]);
    const tiny = seededBytes(100, 3);
    expect(chunkBuffer(tiny)).toEqual([{ offset: 0, length: 100, hash: sha256(tiny) }]);
  });

  it('keeps zero runs shorter than zeroRunMin inside data chunks and makes longer ones zero extents', () => {
    const buf = buildFile(4, [
      ['random', 40 * KiB],
      ['zero', 12 * KiB], // shorter than 16 KiB: stays data
      ['random', 40 * KiB],
      ['zero', 16 * KiB], // exactly zeroRunMin: a zero extent
      ['random', 40 * KiB],
      ['zero', 1 * MiB],
      ['random', 10 * KiB + 7], // ends with a partial page
    ]);
    const chunks = chunkBuffer(buf, small);
    expectWellFormed(buf, chunks, small);
    const zeros = chunks.filter((c) => c.hash === null).map((c) => [c.offset, c.length]);
    expect(zeros).toEqual([
      [92 * KiB, 16 * KiB],
      [148 * KiB, 1 * MiB],
    ]);
  });

  it('counts only whole zero pages, aligned to offset 0', () => {
    // zeros from 1000 to 1000 + 40 KiB: only the pages [4 KiB, 40 KiB) are whole zero pages
    const buf = seededBytes(100 * KiB, 5);
    buf.fill(0, 1000, 1000 + 40 * KiB);
    const zeros = chunkBuffer(buf, small).filter((c) => c.hash === null);
    expect(zeros).toEqual([{ offset: 4 * KiB, length: 36 * KiB, hash: null }]);
  });

  it('treats a partial last page of zeros as data', () => {
    const buf = new Uint8Array(64 * KiB + 100);
    const chunks = chunkBuffer(buf, small);
    expect(chunks[0]).toEqual({ offset: 0, length: 64 * KiB, hash: null });
    expect(chunks.slice(1)).toEqual([{ offset: 64 * KiB, length: 100, hash: sha256(new Uint8Array(100)) }]);
  });

  it('makes an all-zero buffer one zero extent, however long', () => {
    expect(chunkBuffer(new Uint8Array(64 * MiB))).toEqual([{ offset: 0, length: 64 * MiB, hash: null }]);
  });

  it('restarts chunking at each zero-run edge', () => {
    const data = seededBytes(300 * KiB, 6);
    const zeros = new Uint8Array(64 * KiB);
    const both = new Uint8Array(data.length * 2 + zeros.length);
    both.set(data, 0);
    both.set(data, data.length + zeros.length);
    const chunks = chunkBuffer(both, small);
    const first = chunks.filter((c) => c.offset < data.length).map((c) => [c.length, c.hash]);
    const after = chunks.filter((c) => c.offset >= data.length + zeros.length).map((c) => [c.length, c.hash]);
    expect(after).toEqual(first);
  });

  it.each([4 * KiB, 100 * KiB + 3, 1 * MiB])(
    'resists shifts: a %i-byte insert changes only the chunks around it',
    (size) => {
      const base = seededBytes(64 * MiB, 7);
      const insertAt = 32 * MiB + 12345;
      const next = new Uint8Array(base.length + size);
      next.set(base.subarray(0, insertAt), 0);
      next.set(seededBytes(size, 8), insertAt);
      next.set(base.subarray(insertAt), insertAt + size);
      const before = chunkBuffer(base);
      const after = chunkBuffer(next);
      const afterHashes = new Set(after.map((c) => c.hash));
      const lost = before.filter((c) => !afterHashes.has(c.hash));
      expect(lost.length).toBeGreaterThanOrEqual(1);
      expect(lost.length).toBeLessThanOrEqual(3);
      for (const c of lost) {
        expect(c.offset + c.length).toBeGreaterThan(insertAt - DEFAULT_CHUNKING.maxSize * 2);
        expect(c.offset).toBeLessThan(insertAt + DEFAULT_CHUNKING.maxSize * 2);
      }
      const beforeHashes = new Set(before.map((c) => c.hash));
      const newBytes = after.filter((c) => !beforeHashes.has(c.hash)).reduce((n, c) => n + c.length, 0);
      expect(newBytes).toBeLessThanOrEqual(size + 3 * DEFAULT_CHUNKING.maxSize);
    },
  );
});

describe('on-store format', () => {
  it('derives the gear table from its documented seed', () => {
    expect(GEAR_SEED).toBe('ckpt-gear-v1');
    for (const b of [0, 1, 127, 255]) {
      expect(GEAR[b]).toBe(createHash('sha256').update(`ckpt-gear-v1:${b}`).digest().readInt32BE(0));
    }
    expect(new Set(GEAR).size).toBe(256);
  });

  it('keeps chunk boundaries stable (changing them breaks deduplication against existing stores)', () => {
    const buf = buildFile(9, [
      ['random', 3 * MiB],
      ['zero', 256 * KiB],
      ['pages', 512 * KiB],
      ['random', 1 * MiB + 99],
    ]);
    const chunks = chunkBuffer(buf, {
      minSize: 16 * KiB,
      avgSize: 64 * KiB,
      maxSize: 256 * KiB,
      zeroRunMin: 64 * KiB,
    });
    const digest = createHash('sha256').update(JSON.stringify(chunks)).digest('hex');
    expect({ count: chunks.length, firstEnd: chunks[0]?.length, digest }).toMatchInlineSnapshot(`
      {
        "count": 66,
        "digest": "9646366905f89ad89e0d576171fd0cb8aaefa0dbfea3506c34ef7cec6a5b93d7",
        "firstEnd": 56125,
      }
    `);
  });
});
