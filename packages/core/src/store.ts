import type { Readable } from 'node:stream';

/**
 * What a `put` accepts. Bytes are replayable (a retry may resend them); a stream or async
 * iterable is read once, so a failed streaming put is never retried behind the caller's back.
 * Streams may be of any size: adapters must move them with bounded memory (multipart uploads).
 */
export type PutBody = Uint8Array | Readable | AsyncIterable<Uint8Array>;

/**
 * What a put does when the key exists:
 * - `'overwrite'` (the default): replaces it.
 * - `'create'`: fails with `AlreadyExists`; needs `capabilities.conditionalCreate`.
 * - `{ update: version }`: replaces it only when its version token is `version`, else (also when
 *   the key is missing) fails with `PreconditionFailed`; needs `capabilities.conditionalReplace`.
 *
 * A mode the store cannot enforce atomically fails with `Unsupported` before anything is sent.
 */
export type PutMode = 'overwrite' | 'create' | { update: string };

export interface PutOptions {
  /** Default `'overwrite'`. */
  mode?: PutMode;
  /** Exact body length when known. Adapters may use it to choose single vs multipart upload;
   * a body of another length fails with `Integrity` and leaves nothing under the key. */
  size?: number;
  /** User metadata (ASCII keys, lower-case, `[a-z0-9-]`), stored when `capabilities.metadata`. */
  metadata?: Record<string, string>;
  signal?: AbortSignal;
  /**
   * Called at most once, before the put settles, when the store has read the whole body and will
   * not read it again (not even to retry): the caller may then reuse a `Uint8Array` body. The
   * filesystem store calls it once the bytes are written, before its fsync and rename. A store
   * need not call it; the put settling means the same.
   */
  onBodyReleased?: () => void;
  /**
   * The caller lends the body to the store: until the store releases it (`onBodyReleased`, or
   * the put settling), the store may overwrite it and the `writeRoom(body.length)` bytes right
   * after it in its buffer, when the buffer has them (an encrypted store seals the body there,
   * in place). The body's bytes are then undefined: a caller that sets this never reads them
   * again, nor puts them a second time.
   */
  inPlace?: boolean;
}

export interface PutResult {
  /** Opaque version token of the object just written (an ETag, a GCS generation, …). */
  version: string;
  /** Bytes stored. */
  size: number;
}

/** A byte range: `offset` from the start, `length` bytes (to the end when omitted). */
export interface ByteRange {
  offset: number;
  length?: number;
}

export interface GetOptions {
  range?: ByteRange;
  signal?: AbortSignal;
  /**
   * A buffer the store may read the body into instead of allocating its own (the engine passes
   * its reused read buffers): the body then yields views of `into`, each at its position from
   * the start of the returned range, and writes nothing into it once the body has closed. Only
   * used when it can hold the whole range; a store may always ignore it and yield its own buffers.
   * A store with `readRoom` may also use that many bytes of `into.buffer` right after `into`
   * while the read runs, when the buffer has them.
   */
  into?: Uint8Array;
}

export interface ObjectMeta {
  key: string;
  /** Size of the whole object in bytes. */
  size: number;
  /** Opaque version token; equal tokens mean equal content. */
  version: string;
  lastModified: Date;
  metadata?: Record<string, string>;
}

export interface GetResult extends ObjectMeta {
  /** The requested bytes. Consume or destroy it. It errors (never ends early) on a short read. */
  body: Readable;
  /** The range actually returned (the whole object when no range was asked for). */
  range: { offset: number; length: number };
}

export interface ListOptions {
  /** Only keys strictly greater than this one (byte order). */
  startAfter?: string;
  signal?: AbortSignal;
}

/** What a store's requests met so far (`ObjectStore.stats`). */
export interface StoreStats {
  /** Throttling answers (HTTP 429, S3 `SlowDown`, …): each one lowered, or had lowered, the limit below. */
  throttled: number;
  /**
   * Requests the store lets run at once now: halved by throttling, grown again by successes. Until
   * the first throttling answer (and without a configured maximum) the most the callers ran at once.
   */
  inFlightLimit: number;
}

export interface DeleteManyResult {
  /** Keys that could not be deleted, with why. Missing keys are not errors. */
  errors: { key: string; error: Error }[];
}

/**
 * What a store can do. The sync engine branches on these and the conformance suite uses them to
 * choose which tests apply. Every default (see {@link DEFAULT_CAPABILITIES}) is the safe choice: a
 * new capability never breaks an old adapter.
 */
export interface Capabilities {
  /** A put with `mode: 'create'` is enforced atomically. Default `false`. */
  conditionalCreate: boolean;
  /** A put with `mode: {update}` is enforced atomically. Default `false`. */
  conditionalReplace: boolean;
  /** `get(…, {range})` transfers only the range (else the engine avoids ranged reads). Default `false`. */
  rangedRead: boolean;
  /** Largest object a single `put` may store, in bytes. Default 5 GiB. */
  maxObjectSize: number;
  /** Most keys one backend call of `deleteMany` removes. Default `1` (no batching). */
  batchDeleteSize: number;
  /** `put` stores `metadata` and `head`/`get`/`list` return it. Default `false`. */
  metadata: boolean;
  /** A key may also be a prefix of other keys (`a` and `a/b` both exist). Default `false`. */
  keyIsAlsoPrefix: boolean;
  /** Parallel requests that suit this backend; the engine's default concurrency. Default `4`. */
  preferredConcurrency: number;
}

export const DEFAULT_CAPABILITIES: Readonly<Capabilities> = Object.freeze({
  conditionalCreate: false,
  conditionalReplace: false,
  rangedRead: false,
  maxObjectSize: 5 * 1024 ** 3,
  batchDeleteSize: 1,
  metadata: false,
  keyIsAlsoPrefix: false,
  preferredConcurrency: 4,
});

/**
 * A store of objects, as every caller sees it: what `openStore` returns and `Checkpoints` uses.
 * Adapters do not implement it: they implement the narrower `Backend` (`@ckpt/core/backend`),
 * and `BackendStore` makes the store, keeping the promises below in one place.
 *
 * - Keys follow `validateKey`; a bad key, range or option fails with `InvalidArgument` before
 *   any request.
 * - Every failure is a `StoreError` with a code from the closed set in `errors.ts`, the
 *   operation and the key in its message, the backend's own error as `cause`, no credential.
 * - A `put` is atomic: readers see the old object or the new one, never a part. A failed or
 *   aborted put leaves the key as it was.
 * - Read-after-write: `get`, `head` and `list` see a completed `put` or `delete` at once.
 * - A non-success answer from the backend is never success; a short body is an error.
 * - `list` yields keys in ascending byte order, paging internally.
 * - `delete` of a missing key succeeds.
 * - Once a `put` has settled, or earlier once it called `options.onBodyReleased`, the store holds
 *   no reference to its body: callers reuse a `Uint8Array` body for the next object (the engine
 *   recycles its pack buffers).
 */
export interface ObjectStore {
  /** A short description for logs, e.g. `s3://bucket/prefix` (never credentials). */
  readonly name: string;
  readonly capabilities: Readonly<Capabilities>;

  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
  /** Throws `NotFound` when the key is missing. A range past the end yields the bytes that exist. */
  get(key: string, options?: GetOptions): Promise<GetResult>;
  /** Throws `NotFound` when the key is missing. */
  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta>;
  /** Every object whose key starts with `prefix` (plain string prefix), in ascending byte order. */
  list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta>;
  /** Removes the key; succeeds when it is already gone. */
  delete(key: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Removes many keys, batched where the backend can. Per-key failures come back, not thrown. */
  deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult>;
  /**
   * Removes what writers that died left behind and no key names: a filesystem store's temp files,
   * an S3 bucket's incomplete multipart uploads. Only what was last written to more than
   * `olderThanMs` ago; `gc` calls it with its grace period. Optional: a store that leaves nothing
   * behind has none. Resolves to the bytes it freed, when known.
   */
  removeAbandoned?(
    olderThanMs: number,
    options?: { signal?: AbortSignal },
  ): Promise<{ removed: number; bytes: number }>;
  /**
   * Creates the store itself when it does not exist and the backend can (a filesystem store's
   * root folder); a push calls it before its first read. Reads never create a store: a store that
   * does not exist fails them with `InvalidArgument` naming it (never `NotFound`, which is about a
   * key), so a mistyped store cannot look like an empty one. Omitted by backends whose stores are
   * made elsewhere (an S3 bucket).
   */
  ensureExists?(options?: { signal?: AbortSignal }): Promise<void>;
  /**
   * Bytes past `GetOptions.into` that a ranged read of `length` bytes may use in `into`'s buffer
   * (an encrypted store reads its larger stored blocks there and decrypts them in place): a caller
   * that reads into reused buffers makes them that much larger. None when absent.
   */
  readRoom?(length: number): number;
  /**
   * Bytes past a body of `length` bytes that a put with `PutOptions.inPlace` may use in the
   * body's buffer (an encrypted store's stored object is larger than its plaintext): a caller that
   * puts from reused buffers makes them that much larger. None when absent.
   */
  writeRoom?(length: number): number;
  /** What the store's requests met so far; undefined (or no method) for a store that does not adapt. */
  stats?(): StoreStats | undefined;
  /** Releases sockets, file handles, child servers. Idempotent. */
  close?(): Promise<void>;
}
