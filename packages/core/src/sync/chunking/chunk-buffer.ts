import { chunkParams, DEFAULT_CHUNKING } from './options.js';
import { hashExtents, scanExtents } from './scan.js';
import type { Chunk, ChunkingOptions } from './types.js';

/**
 * Chunks an in-memory buffer: pure, synchronous, single-threaded. This is the reference the
 * parallel {@link FileWorkers} matches exactly. Chunks carry no `data`: a chunk's bytes are
 * `buf.subarray(offset, offset + length)`.
 *
 * @example
 * ```ts
 * const chunks = chunkBuffer(bytes);           // DEFAULT_CHUNKING
 * const stored = chunks.filter((c) => c.hash !== null);
 * ```
 */
export function chunkBuffer(buf: Uint8Array, options: ChunkingOptions = DEFAULT_CHUNKING): Chunk[] {
  const p = chunkParams(options);
  const extents = scanExtents(
    buf,
    0,
    buf.length,
    { start: 0, segmentEnd: buf.length, stitchEnd: buf.length },
    p,
  );
  const hashes = hashExtents(buf, 0, extents);
  return extents.map((x, i) => ({ offset: x.offset, length: x.length, hash: hashes[i] ?? null }));
}
