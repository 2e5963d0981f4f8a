/**
 * Content-defined chunking of checkpoint files, with zero runs found apart.
 *
 * ## The format (boundaries must never change for the same options)
 * 1. **Zero runs.** The file is read as 4 KiB pages from offset 0. A maximal run of whole all-zero
 *    pages at least `zeroRunMin` bytes long is one zero extent (`hash: null`, never stored, no
 *    length cap). A partial last page is data.
 * 2. **Data regions** (the stretches between zero extents) are cut into chunks independently,
 *    each from its own start. For a chunk starting at `s`: skip to `s + minSize`; from there roll
 *    `h = ((h << 1) + GEAR[byte]) | 0` (32 bits, `h = 0` at `s + minSize`); cut after the first
 *    byte where `h & mask === 0`, with `mask` the `log2(avgSize) + 2` high bits before
 *    `s + avgSize` and the `log2(avgSize) − 2` high bits after; cut at `s + maxSize` or at the
 *    region end if no byte matched. `GEAR` comes from {@link GEAR_SEED} (see gear.ts).
 * 3. **Names.** A data chunk is named by the lower-case hex SHA-256 of its bytes.
 *
 * {@link chunkBuffer} is the single-threaded reference; {@link FileWorkers} gives exactly the same
 * extents from worker threads, streaming, with bounded memory.
 */
export { chunkBuffer } from './chunk-buffer.js';
export type { ChunkerPoolStats, ChunkFileOptions, FileWorkersOptions, WholeFile } from './file-workers.js';
export { FileWorkers } from './file-workers.js';
export { GEAR_SEED } from './gear.js';
export type { ChunkParams } from './options.js';
export { chunkParams, DEFAULT_CHUNKING, PAGE_SIZE } from './options.js';
export type { NewFile } from './protocol.js';
export type { Chunk, ChunkingOptions } from './types.js';
