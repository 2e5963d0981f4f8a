import { StoreError } from '../../errors.js';
import type { ChunkingOptions } from './types.js';

/** Memory page size: zero runs are found page by page, pages counted from file offset 0. */
export const PAGE_SIZE = 4096;

/**
 * The defaults: small enough chunks that a page rewritten here and there costs little more than
 * itself in the next version, large enough that per-chunk work never outweighs the hash; zero
 * runs long enough to skip without fragmenting data chunks. How they were chosen, with figures:
 * docs/benchmarks.md, "Chunking parameters".
 */
export const DEFAULT_CHUNKING: Readonly<ChunkingOptions> = Object.freeze({
  minSize: 16 * 1024,
  avgSize: 64 * 1024,
  maxSize: 256 * 1024,
  zeroRunMin: 64 * 1024,
});

/** Chunking options checked, plus the two hash masks derived from `avgSize`. */
export interface ChunkParams extends ChunkingOptions {
  /** Mask a hash must clear before `avgSize`: log2(avgSize) + 2 high bits. */
  maskStrict: number;
  /** Mask a hash must clear after `avgSize`: log2(avgSize) − 2 high bits. */
  maskLoose: number;
}

/** The largest chunk any manifest may hold: a reader allocates a chunk's bytes at once. */
export const MAX_CHUNK_BYTES = 128 * 1024 * 1024;

/** Normalization level: how many mask bits are added before, and removed after, `avgSize`. */
const NORMALIZATION = 2;

/**
 * Checks `options` and derives the masks. Throws `InvalidArgument` naming the field when
 * sizes are not integers, not ordered `minSize < avgSize < maxSize`, `avgSize` is not a power of
 * two in 256 B … 64 MiB, `maxSize` is above 128 MiB, or `zeroRunMin` is not a positive
 * multiple of 4096.
 */
export function chunkParams(options: ChunkingOptions = DEFAULT_CHUNKING): ChunkParams {
  const { minSize, avgSize, maxSize, zeroRunMin } = options;
  const bad = (field: string, detail: string) =>
    new StoreError('InvalidArgument', `${detail} (got ${String(options[field as keyof ChunkingOptions])})`, {
      operation: 'chunking options',
      key: field,
    });
  for (const field of ['minSize', 'avgSize', 'maxSize', 'zeroRunMin'] as const) {
    if (!Number.isSafeInteger(options[field]) || options[field] <= 0)
      throw bad(field, 'must be a positive integer');
  }
  const bits = Math.log2(avgSize);
  if (!Number.isInteger(bits) || bits < 8 || bits > 26)
    throw bad('avgSize', 'must be a power of two, 256 B to 64 MiB');
  if (minSize >= avgSize) throw bad('minSize', 'must be smaller than avgSize');
  if (maxSize <= avgSize) throw bad('maxSize', 'must be larger than avgSize');
  if (maxSize > MAX_CHUNK_BYTES) throw bad('maxSize', 'must be at most 128 MiB');
  if (zeroRunMin % PAGE_SIZE !== 0) throw bad('zeroRunMin', 'must be a multiple of 4096');
  return {
    minSize,
    avgSize,
    maxSize,
    zeroRunMin,
    maskStrict: highBits(bits + NORMALIZATION),
    maskLoose: highBits(bits - NORMALIZATION),
  };
}

/** A 32-bit mask of the `n` most significant bits (as a signed int32). */
function highBits(n: number): number {
  return n >= 32 ? -1 : ~(-1 >>> n);
}
