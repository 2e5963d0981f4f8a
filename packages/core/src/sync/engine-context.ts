import type { CacheWriter } from '../cache/cache-writer.js';
import type { ChunkCache } from '../cache/chunk-cache.js';
import type { ObjectStore } from '../store.js';
import type { ChunkingOptions, FileWorkers } from './chunking/index.js';

/** What the sync operations share: the store, tuning, and the file workers, started when first needed. */
export interface EngineContext {
  store: ObjectStore;
  /** Parallel store requests. */
  concurrency: number;
  /** Grace period in ms (see `GcOptions.grace`). */
  grace: number;
  /** Target pack object size in bytes. */
  packSize: number;
  /** Bytes of file data held in memory at once (push: read-ahead and packs; pull: reads in flight). */
  memoryBudget: number;
  /** Largest byte range fetched by one ranged read on pull. */
  readSize: number;
  chunking: ChunkingOptions;
  /** Where local records of checkpoint directories live (local-state.ts). */
  stateDir: string;
  /** The host's chunk cache: pulls read from it before the store, pushes and pulls fill it. */
  cache?: ChunkCache;
  /**
   * Whether generations carry summary keys (summary-keys.ts): pushes write them and `ls` reads
   * them. Not in an encrypted store, whose key names anyone reading the store sees.
   */
  summaryKeys: boolean;
  /** How often a push renews its lease (push-lease.ts). */
  leaseRenewMs: number;
  /**
   * Opens the store: reads its record once, refuses a newer format, sets `chunking` to the
   * store's (store-record.ts). With `'push'` it also creates the store and, when it has none,
   * its record. Every operation calls it before it reads or writes anything else in the store.
   */
  open(signal: AbortSignal | undefined, purpose?: 'push'): Promise<unknown>;
  workers(): FileWorkers;
  /** The thread that writes `cache`'s entries, started when first needed. */
  cacheWriter(): CacheWriter;
}

/** Ranged reads a pull or verify keeps in flight: the store's concurrency, within the memory budget. */
export function readsInFlight(ctx: EngineContext): number {
  return Math.max(1, Math.min(ctx.concurrency, Math.floor(ctx.memoryBudget / ctx.readSize)));
}
