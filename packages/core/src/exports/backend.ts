// `@ckpt/core/backend`: what an adapter author builds a backend with. See
// `examples/custom-adapter` for a whole backend and its conformance test.
export type { Backend, BackendGetOptions, BackendPutOptions, ErrorContext } from '../backend.js';
export {
  BlockReader,
  type HeadBlock,
  PartBuffers,
  readHead,
  type SendPartsOptions,
  sendParts,
} from '../blocks.js';
export { bodyChunks, isReplayable, readAll } from '../body.js';
export {
  type BackendDefinition,
  type BackendOpenOptions,
  requestTimeoutMs,
} from '../config/backend-definition.js';
export { duration, flag, httpUrl, integer, keyPrefix, secret, text, timeout } from '../config/fields.js';
export { BackendRegistry } from '../config/registry.js';
export { queryFields, rejectUrlCredentials, urlError, urlHost, urlPrefix } from '../config/url-parts.js';
export { errnoError, errnoOf } from '../errno.js';
export { abortable, abortError, redact, throwIfAborted, timeoutError, timeoutText } from '../errors.js';
export {
  compareKeys,
  dirPrefix,
  joinKey,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  normalizePrefix,
  validateKey,
} from '../keys.js';
export { DEFAULT_CAPABILITIES } from '../store.js';
export {
  type PoolWorker,
  type WorkerJobOptions,
  WorkerPool,
  type WorkerPoolOptions,
  type WorkerRunOptions,
} from '../worker-pool.js';
export { WRITE_PIECE, writeAll } from '../write-all.js';
