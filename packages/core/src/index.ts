export type { Backend, BackendGetOptions, BackendPutOptions, ErrorContext } from './backend.js';
export { BackendStore, type StoreOptions } from './backend-store.js';
export { bodyChunks, isReplayable, readAll } from './body.js';
export * from './config/index.js';
export { errnoError, errnoOf } from './errno.js';
export type { StoreErrorCode, StoreErrorOptions } from './errors.js';
export { abortError, redact, STORE_ERROR_CODES, StoreError, throwIfAborted } from './errors.js';
export {
  compareKeys,
  dirPrefix,
  joinKey,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  normalizePrefix,
  validateKey,
} from './keys.js';
export * from './layers/index.js';
export { MemoryBackend, MemoryStore } from './memory-store.js';
export { keepYoungGenerationSmall, workerThreadStarted } from './process-memory.js';
export { isRetryable, type RetryEvent, type RetryOptions, type StoreOp } from './retry.js';
export type {
  ByteRange,
  Capabilities,
  DeleteManyResult,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutBody,
  PutMode,
  PutOptions,
  PutResult,
} from './store.js';
export { DEFAULT_CAPABILITIES } from './store.js';
export * from './sync/index.js';
export { WRITE_PIECE, writeAll } from './write-all.js';
