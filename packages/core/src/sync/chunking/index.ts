/**
 * Content-defined chunking of checkpoint files: zero runs found page by page (never stored),
 * everything else cut by a FastCDC-style gear hash into chunks named by SHA-256.
 * {@link chunkBuffer} is the single-threaded reference; {@link ChunkerPool} gives the same result
 * from worker threads, streaming and memory-bounded.
 */
export { chunkBuffer } from './chunk-buffer.js';
export type { ChunkerPoolOptions, ChunkerPoolStats, ChunkFileOptions } from './chunker-pool.js';
export { ChunkerPool } from './chunker-pool.js';
export { GEAR_SEED } from './gear.js';
export type { ChunkParams } from './options.js';
export { chunkParams, DEFAULT_CHUNKING, PAGE_SIZE } from './options.js';
export type { Chunk, ChunkingOptions } from './types.js';
