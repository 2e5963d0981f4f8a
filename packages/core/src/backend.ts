import type { StoreError } from './errors.js';
import type {
  ByteRange,
  Capabilities,
  DeleteManyResult,
  GetResult,
  ObjectMeta,
  PutBody,
  PutMode,
  PutResult,
} from './store.js';

/** What a failed call was doing, for {@link Backend.toStoreError}. */
export interface ErrorContext {
  operation: string;
  key?: string;
  /** Set for puts. */
  mode?: PutMode;
}

/** Options of {@link Backend.put}, checked by the store before the call. */
export interface BackendPutOptions {
  /** Always set; a mode the backend's capabilities do not enforce never reaches it. */
  mode: PutMode;
  /** Exact body length when the caller knows it: a safe integer within `maxObjectSize`. */
  size?: number;
  /** Only passed when `capabilities.metadata`. */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /** See `PutOptions.onBodyReleased`. */
  onBodyReleased?: () => void;
}

/** Options of {@link Backend.get}, checked by the store before the call. */
export interface BackendGetOptions {
  /** Offset and length are safe integers; `length` is never 0 (the store answers those itself). */
  range?: ByteRange;
  signal?: AbortSignal;
  /** See `GetOptions.into`. */
  into?: Uint8Array;
}

/**
 * What an adapter implements: the operations a storage backend really performs. Wrap it in a
 * `BackendStore` (`openStore` does) and it becomes an `ObjectStore`; the store validates keys,
 * ranges and options, checks aborts before each call, turns every failure into a `StoreError`,
 * retries what is retryable and resumes broken reads, batches `deleteMany`. So a backend does
 * none of that: it moves bytes and says what failed.
 *
 * What a backend must do (the `@ckpt/testkit` suite checks each one through the store):
 * - `put` is atomic: readers see the old object or the new one, never a part; a failed or aborted
 *   put leaves the key as it was. It honours `mode`; it streams a body of any size with bounded
 *   memory; a body whose length differs from `size` fails with `Integrity`.
 * - `get` answers a range past the end with the bytes that exist, and reports in `range` the
 *   bytes its body holds. `head` and `get` of a missing key throw `NotFound`. (A body that breaks
 *   or ends short is resumed or failed by the store.)
 * - `list` yields every key starting with the prefix after `startAfter`, in ascending byte order.
 * - `delete` of a missing key succeeds.
 * - Read-after-write; no reference to a put's body once the put settles (or `onBodyReleased`).
 * - Network backends give up on a connection that does not open or goes silent (connect and idle
 *   timeouts), with a retryable error: the store's retries then apply.
 *
 * Failures may be thrown as they come (an SDK error, an `errno` error): the store maps them with
 * {@link Backend.toStoreError}, then by their `errno` code, else as `Internal`.
 */
export interface Backend {
  /** A short description for logs, e.g. `s3://bucket/prefix` (never credentials). */
  readonly name: string;
  /** What the backend can do; missing fields take the safe defaults of `DEFAULT_CAPABILITIES`. */
  readonly capabilities: Partial<Capabilities>;

  put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult>;
  get(key: string, options: BackendGetOptions): Promise<GetResult>;
  head(key: string, options: { signal?: AbortSignal }): Promise<ObjectMeta>;
  list(prefix: string, options: { startAfter?: string; signal?: AbortSignal }): AsyncIterable<ObjectMeta>;
  delete(key: string, options: { signal?: AbortSignal }): Promise<void>;
  /**
   * Deletes up to `capabilities.batchDeleteSize` keys in one request. Optional: without it the
   * store deletes key by key. Per-key failures come back, not thrown; missing keys are not errors.
   */
  deleteBatch?(keys: string[], options: { signal?: AbortSignal }): Promise<DeleteManyResult>;
  /** See `ObjectStore.removeAbandoned`. */
  removeAbandoned?(
    olderThanMs: number,
    options: { signal?: AbortSignal },
  ): Promise<{ removed: number; bytes: number }>;
  /** See `ObjectStore.ensureExists`. */
  ensureExists?(options: { signal?: AbortSignal }): Promise<void>;
  close?(): Promise<void>;
  /**
   * Reads a failure of this backend (an SDK error) as a `StoreError` of the right code, with
   * `retryable` set; undefined when it does not recognise it. `StoreError`s never reach it. The
   * context holds the put's mode, for backends whose answer to a failed condition depends on it.
   */
  toStoreError?(error: unknown, context: ErrorContext): StoreError | undefined;
}
