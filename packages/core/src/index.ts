// The main entry: what users of ckpt need. Adapter authors also import `@ckpt/core/backend`,
// tests `@ckpt/core/testing`, command-line front ends `@ckpt/core/cli`.
export type { Backend, BackendGetOptions, BackendPutOptions, ErrorContext } from './backend.js';
export { BackendStore, type StoreOptions } from './backend-store.js';
export {
  type CacheStats,
  ChunkCache,
  type ChunkCacheOptions,
  type ChunkKey,
  cacheStats,
  DEFAULT_CACHE_BYTES,
  type PruneResult,
  pruneCache,
} from './cache/index.js';
export type {
  AnyStoreConfig,
  BackendDefinition,
  BackendOpenOptions,
  BackendRegistryOptions,
  BackendSummary,
  BuiltinBackend,
  BuiltinType,
  CacheSettings,
  CkptConfig,
  OpenStoreOptions,
  ParseStoreUrlOptions,
  QueryFieldKind,
  ResolvedStoreConfig,
  ResolveStoreConfigOptions,
  StoreSource,
  SyncSettings,
} from './config/index.js';
export { openStore, registerBackend, validateStoreConfig } from './config/index.js';
export { rotateEncryptionKey } from './crypto/rotate-key.js';
export type { StoreErrorCode, StoreErrorOptions } from './errors.js';
export { STORE_ERROR_CODES, StoreError } from './errors.js';
export type {
  FaultCounts,
  FaultOptions,
  MetricsSnapshot,
  OpStats,
  Random,
  Sleep,
  StoreEvent,
  StoreListener,
  StoreMetricsOptions,
} from './layers/index.js';
export { type EventsLayer, StoreLayer, StoreMetrics, withEvents } from './layers/index.js';
export { isRetryable, type RetryEvent, type RetryOptions, type StoreOp } from './retry.js';
export type * from './store.js';
export type { ChunkingOptions } from './sync/chunking/index.js';
export {
  Checkpoints,
  type CheckpointsOptions,
  DEFAULT_GRACE_MS,
  defaultStateDir,
  isGenerationId,
  localRecordPath,
  type RecordKind,
  validateModel,
} from './sync/index.js';
export type * from './sync/types.js';
export type { PoolWorker, WorkerJobOptions, WorkerPoolOptions, WorkerRunOptions } from './worker-pool.js';
