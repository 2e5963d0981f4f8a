import type { ObjectStore } from '../store.js';
import type { ChunkerPool, ChunkingOptions } from './chunking/index.js';

/** What the sync operations share: the store, tuning, and the lazily started chunker pool. */
export interface EngineContext {
  store: ObjectStore;
  /** Parallel store requests. */
  concurrency: number;
  /** Grace period in ms (see `GcOptions.grace`). */
  grace: number;
  /** Target pack object size in bytes. */
  packSize: number;
  /** Bytes of file data held in memory at once (read ahead for chunking + packs uploading). */
  memoryBudget: number;
  /** Largest byte range fetched by one ranged read on pull. */
  readSize: number;
  chunking: ChunkingOptions;
  chunker(): ChunkerPool;
}
