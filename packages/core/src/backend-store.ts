import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { Backend } from './backend.js';
import { errorText } from './config/error-text.js';
import { errnoError } from './errno.js';
import { abortError, StoreError, throwIfAborted } from './errors.js';
import { InFlightLimit, type Slot } from './in-flight-limit.js';
import { compareKeys, keyProblem, normalizePrefix, validateKey } from './keys.js';
import { ResumableBody } from './resumable-body.js';
import { isRetryable, type RetryOptions, RetryPolicy, type StoreOp } from './retry.js';
import {
  type ByteRange,
  type Capabilities,
  DEFAULT_CAPABILITIES,
  type DeleteManyResult,
  type GetOptions,
  type GetResult,
  type ListOptions,
  type ObjectMeta,
  type ObjectStore,
  type PutBody,
  type PutMode,
  type PutOptions,
  type PutResult,
  type StoreStats,
} from './store.js';
import { countThrottled } from './telemetry.js';

/** Options of a {@link BackendStore}. */
export interface StoreOptions {
  /** How failed requests are retried; `false` for never. Default: {@link RetryOptions}' defaults. */
  retry?: RetryOptions | false;
  /**
   * Most requests in flight at once, the ceiling the limit grows back to after the service
   * throttled. Default: none of the store's own (the callers' concurrency bounds it) until a
   * throttling answer, then the most the callers ran at once.
   */
  maxInFlight?: number;
}

const METADATA_KEY = /^[a-z0-9-]+$/;

/**
 * The `ObjectStore` over a {@link Backend}: every promise of the contract that does not depend on
 * the backend is kept here, once. It validates keys, ranges and options before any request,
 * refuses put modes the backend cannot enforce, checks the caller's signal before each attempt,
 * turns every failure into a `StoreError` (the backend's `toStoreError`, else its `errno`, else
 * `Internal`, credentials redacted), retries retryable failures with one policy, resumes a broken
 * `get` body from the byte where it broke, resumes a broken listing after the last key, and
 * batches `deleteMany`. Every request to the backend holds a slot of one `InFlightLimit`
 * (a `get` until its body closes, a listing for each step): throttling answers lower it.
 *
 * @example
 * ```ts
 * const store = new BackendStore(new KvDirBackend('/var/lib/ckpt'), { retry: { attempts: 3 } });
 * ```
 */
export class BackendStore implements ObjectStore {
  readonly capabilities: Readonly<Capabilities>;
  private readonly retry: RetryPolicy;
  private readonly limit: InFlightLimit;
  private closing: Promise<void> | undefined;

  constructor(
    /** The backend this store runs on. */
    readonly backend: Backend,
    options: StoreOptions = {},
  ) {
    this.capabilities = Object.freeze({ ...DEFAULT_CAPABILITIES, ...backend.capabilities });
    this.retry = new RetryPolicy(options.retry === false ? { attempts: 1 } : options.retry);
    this.limit = new InFlightLimit(options.maxInFlight);
  }

  get name(): string {
    return this.backend.name;
  }

  stats(): StoreStats {
    return { throttled: this.limit.throttled, inFlightLimit: this.limit.limit };
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    validateKey(key, 'put');
    const mode = this.checkMode(key, options.mode ?? 'overwrite');
    const { size, signal } = options;
    this.checkSize(key, size, body);
    const metadata = this.checkMetadata(key, options.metadata);
    const base = { mode, size, signal, ...(metadata ? { metadata } : {}) };
    if (!(body instanceof Uint8Array)) {
      const release = options.onBodyReleased;
      return this.once(
        'put',
        key,
        signal,
        () => this.backend.put(key, body, { ...base, ...(release ? { onBodyReleased: release } : {}) }),
        mode,
      );
    }
    // the caller may reuse a released body: no attempt may follow the one that released it
    let released = false;
    const onBodyReleased = () => {
      released = true;
      options.onBodyReleased?.();
    };
    let failedBefore = false;
    return this.retry.run(
      'put',
      key,
      signal,
      async () => {
        try {
          return await this.once(
            'put',
            key,
            signal,
            () => this.backend.put(key, body, { ...base, onBodyReleased }),
            mode,
          );
        } catch (error) {
          // an earlier attempt may have written the object and lost only its answer
          if (failedBefore && mode === 'create' && StoreError.is(error, 'AlreadyExists')) {
            const own = await this.storedIfEqual(key, body, signal);
            if (own) return own;
          }
          failedBefore = true;
          throw error;
        }
      },
      () => !released,
    );
  }

  /** `key`'s version and size when it holds exactly `bytes`, else `undefined`. */
  private async storedIfEqual(
    key: string,
    bytes: Uint8Array,
    signal: AbortSignal | undefined,
  ): Promise<PutResult | undefined> {
    const stored = await this.get(key, { signal }).catch((error: unknown) => {
      if (StoreError.is(error, 'NotFound')) return undefined;
      throw error;
    });
    if (!stored) return undefined;
    if (stored.size !== bytes.length) {
      stored.body.destroy();
      return undefined;
    }
    let at = 0;
    for await (const chunk of stored.body as AsyncIterable<Uint8Array>) {
      if (Buffer.compare(chunk, bytes.subarray(at, at + chunk.length)) !== 0) return undefined;
      at += chunk.length;
    }
    return at === bytes.length ? { version: stored.version, size: at } : undefined;
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    validateKey(key, 'get');
    const { signal, into } = options;
    const range = checkRange(key, options.range);
    if (range?.length === 0) {
      const meta = await this.head(key, { signal });
      return {
        ...meta,
        body: Readable.from([]),
        range: { offset: Math.min(range.offset, meta.size), length: 0 },
      };
    }
    const [first, slot] = await this.retry.run('get', key, signal, () =>
      this.holdingSlot('get', key, signal, () =>
        this.backend.get(key, { ...(range ? { range } : {}), signal, ...(into ? { into } : {}) }),
      ),
    );
    if (
      range &&
      (first.range.offset !== Math.min(range.offset, first.size) ||
        first.range.length > (range.length ?? first.size))
    ) {
      first.body.destroy();
      this.limit.release(slot, 'other');
      throw new StoreError(
        'Internal',
        `the backend answered bytes ${first.range.offset}+${first.range.length} to a request for ${range.offset}+${range.length ?? 'rest'}`,
        { operation: 'get', key },
      );
    }
    const fetchRest = async (offset: number, rest: Uint8Array | undefined) => {
      throwIfAborted(signal, 'get', key);
      const length = first.range.offset + first.range.length - offset;
      const got = await this.backend.get(key, {
        range: { offset, length },
        signal,
        ...(rest ? { into: rest } : {}),
      });
      if (got.range.offset !== offset || got.range.length > length) {
        got.body.destroy();
        throw new StoreError(
          'Internal',
          `the backend answered bytes ${got.range.offset}+${got.range.length} to a request for ${offset}+${length}`,
          { operation: 'get', key },
        );
      }
      return got;
    };
    const retries = this.retry.start('get', key, signal);
    const mapError = (error: unknown) => {
      const mapped = this.toStoreError(error, 'get', key, signal);
      if (mapped.throttled) this.throttledAnswer(slot, 'get', false);
      return mapped;
    };
    const body = new ResumableBody(key, first, retries, fetchRest, mapError, into);
    // the request holds its slot until its body closes: the service counts it in flight until then
    body.once('close', () => this.limit.release(slot, body.readableEnded ? 'ok' : 'other'));
    return { ...first, body };
  }

  async head(key: string, options: { signal?: AbortSignal } = {}): Promise<ObjectMeta> {
    validateKey(key, 'head');
    return this.retrying('head', key, options.signal, () =>
      this.backend.head(key, { signal: options.signal }),
    );
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const normal = normalizePrefix(prefix, 'list');
    const { signal } = options;
    let last = options.startAfter;
    const retries = this.retry.start('list', normal, signal);
    for (;;) {
      try {
        throwIfAborted(signal, 'list', normal);
        const listing = this.backend.list(normal, {
          ...(last === undefined ? {} : { startAfter: last }),
          signal,
        });
        for await (const meta of this.limitedSteps(listing, normal, signal)) {
          if (!meta.key.startsWith(normal) || (last !== undefined && compareKeys(meta.key, last) <= 0)) {
            throw new StoreError('Internal', `the backend listed ${JSON.stringify(meta.key)} out of order`, {
              operation: 'list',
              key: normal,
            });
          }
          last = meta.key;
          retries.progressed();
          yield meta;
        }
        return;
      } catch (error) {
        await retries.backoff(error);
      }
    }
  }

  async delete(key: string, options: { signal?: AbortSignal } = {}): Promise<void> {
    validateKey(key, 'delete');
    return this.retrying('delete', key, options.signal, () =>
      this.backend.delete(key, { signal: options.signal }),
    );
  }

  async deleteMany(keys: string[], options: { signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    const { signal } = options;
    throwIfAborted(signal, 'deleteMany', keys[0]);
    const errors: DeleteManyResult['errors'] = [];
    const valid: string[] = [];
    for (const key of new Set(keys)) {
      const problem = keyProblem(key);
      if (problem === undefined) valid.push(key);
      else
        errors.push({
          key,
          error: new StoreError('InvalidArgument', problem, { operation: 'deleteMany', key }),
        });
    }
    const limit = pLimit(this.capabilities.preferredConcurrency);
    const batch = this.backend.deleteBatch ? this.capabilities.batchDeleteSize : 1;
    const batches: string[][] = [];
    for (let i = 0; i < valid.length; i += batch) batches.push(valid.slice(i, i + batch));
    await Promise.all(
      batches.map((part) =>
        limit(async () => {
          try {
            errors.push(...(await this.deleteBatch(part, signal)));
          } catch (error) {
            if (StoreError.is(error, 'Aborted')) throw error;
            for (const key of part) errors.push({ key, error: error as Error });
          }
        }),
      ),
    );
    return { errors };
  }

  async removeAbandoned(olderThanMs: number, options: { signal?: AbortSignal } = {}) {
    if (!(Number.isFinite(olderThanMs) && olderThanMs >= 0)) {
      throw new StoreError('InvalidArgument', 'olderThanMs must be a non-negative number', {
        operation: 'removeAbandoned',
      });
    }
    const remove = this.backend.removeAbandoned;
    if (!remove) return { removed: 0, bytes: 0 };
    return this.once('delete', '', options.signal, () => remove.call(this.backend, olderThanMs, options));
  }

  async ensureExists(options: { signal?: AbortSignal } = {}): Promise<void> {
    const ensure = this.backend.ensureExists;
    if (ensure) await this.retrying('put', '', options.signal, () => ensure.call(this.backend, options));
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        await this.backend.close?.();
      } catch (error) {
        throw this.toStoreError(error, 'close', undefined, undefined);
      }
    })();
    return this.closing;
  }

  /**
   * `error` as a `StoreError` of this store: `Aborted` once `signal` fired, a `StoreError` as it
   * is, else the backend's reading of it, its `errno` reading, or `Internal`.
   */
  toStoreError(
    error: unknown,
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    mode?: PutMode,
  ): StoreError {
    const aborted = abortError(signal, operation, key);
    if (aborted) return aborted;
    if (StoreError.is(error)) return error;
    if ((error as Error | null)?.name === 'AbortError') {
      return new StoreError('Aborted', 'the operation was aborted', { operation, key, cause: error });
    }
    return (
      this.backend.toStoreError?.(error, {
        operation,
        ...(key === undefined ? {} : { key }),
        ...(mode === undefined ? {} : { mode }),
      }) ??
      errnoError(error, operation, key) ??
      new StoreError('Internal', errorText(error), { operation, key, cause: error })
    );
  }

  /** One batch through the backend's `deleteBatch` (or one key through `delete`), its retryable per-key failures retried. */
  private async deleteBatch(
    keys: string[],
    signal: AbortSignal | undefined,
  ): Promise<DeleteManyResult['errors']> {
    const deleteBatch = this.backend.deleteBatch;
    if (!deleteBatch || keys.length === 1) {
      await this.delete(keys[0]!, { signal });
      return [];
    }
    const final: DeleteManyResult['errors'] = [];
    const retries = this.retry.start('deleteMany', keys[0]!, signal);
    let pending = keys;
    for (;;) {
      const { errors } = await this.retrying('deleteMany', pending[0]!, signal, () =>
        deleteBatch.call(this.backend, pending, { signal }),
      );
      const mapped = errors.map(({ key, error }) => ({
        key,
        error: this.toStoreError(error, 'delete', key, signal),
      }));
      const transient = mapped.filter((e) => isRetryable(e.error));
      final.push(...mapped.filter((e) => !isRetryable(e.error)));
      if (transient.length === 0) return final;
      try {
        await retries.backoff(transient[0]!.error);
      } catch {
        return [...final, ...transient];
      }
      pending = transient.map((e) => e.key);
    }
  }

  private checkMode(key: string, mode: PutMode): PutMode {
    const fail = (code: 'InvalidArgument' | 'Unsupported', detail: string) => {
      throw new StoreError(code, detail, { operation: 'put', key });
    };
    if (mode === 'create') {
      if (!this.capabilities.conditionalCreate)
        fail('Unsupported', `${this.name} cannot enforce create-only puts`);
    } else if (typeof mode === 'object' && mode !== null) {
      if (typeof mode.update !== 'string' || mode.update === '')
        fail('InvalidArgument', 'mode.update must be a version token');
      if (!this.capabilities.conditionalReplace)
        fail('Unsupported', `${this.name} cannot enforce compare-and-swap puts`);
    } else if (mode !== 'overwrite') {
      fail(
        'InvalidArgument',
        `mode must be "overwrite", "create" or {update: version}, got ${JSON.stringify(mode)}`,
      );
    }
    return mode;
  }

  private checkSize(key: string, size: number | undefined, body: PutBody): void {
    const max = this.capabilities.maxObjectSize;
    if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0 && size <= max)) {
      throw new StoreError('InvalidArgument', `size must be an integer from 0 to ${max}`, {
        operation: 'put',
        key,
      });
    }
    if (body instanceof Uint8Array) {
      if (size !== undefined && body.byteLength !== size) {
        throw new StoreError('Integrity', `body has ${body.byteLength} bytes, expected ${size}`, {
          operation: 'put',
          key,
        });
      }
    } else if (typeof (body as AsyncIterable<Uint8Array> | null)?.[Symbol.asyncIterator] !== 'function') {
      throw new StoreError(
        'InvalidArgument',
        'body must be a Uint8Array, a stream or an async iterable of bytes',
        {
          operation: 'put',
          key,
        },
      );
    }
  }

  private checkMetadata(key: string, metadata: Record<string, string> | undefined) {
    if (metadata === undefined || !this.capabilities.metadata) return undefined;
    for (const [name, value] of Object.entries(metadata)) {
      if (!METADATA_KEY.test(name) || typeof value !== 'string') {
        throw new StoreError(
          'InvalidArgument',
          `metadata ${JSON.stringify(name)}: names are [a-z0-9-], values strings`,
          {
            operation: 'put',
            key,
          },
        );
      }
    }
    return metadata;
  }

  /** Runs `call` once within the limit on requests in flight, its failure read as a `StoreError`. */
  private async once<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    mode?: PutMode,
  ): Promise<T> {
    const [result, slot] = await this.holdingSlot(op, key, signal, call, mode);
    this.limit.release(slot, 'ok');
    return result;
  }

  /** {@link once}, its slot still held when it succeeds: the caller releases it. */
  private async holdingSlot<T>(
    op: string,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    mode?: PutMode,
  ): Promise<[T, Slot]> {
    throwIfAborted(signal, op, key || undefined);
    const slot = await this.limit.acquire(signal, op, key || undefined);
    try {
      return [await call(), slot];
    } catch (error) {
      const mapped = this.toStoreError(error, op, key || undefined, signal, mode);
      if (mapped.throttled) this.throttledAnswer(slot, op, true);
      else this.limit.release(slot, 'other');
      throw mapped;
    }
  }

  /** The steps of a backend's listing, each (a page fetched, or a key from one) within the limit. */
  private async *limitedSteps(
    listing: AsyncIterable<ObjectMeta>,
    prefix: string,
    signal: AbortSignal | undefined,
  ): AsyncGenerator<ObjectMeta> {
    const steps = listing[Symbol.asyncIterator]();
    try {
      for (;;) {
        // a step is neither a success that grows the limit nor a request to count: a page holds many keys
        const [step, slot] = await this.holdingSlot('list', prefix, signal, () => steps.next());
        this.limit.release(slot, 'other');
        if (step.done) return;
        yield step.value;
      }
    } finally {
      await steps.return?.();
    }
  }

  /** A throttling answer to the request of `slot`: counted, and the limit lowered; `release` ends the request. */
  private throttledAnswer(slot: Slot, op: string, release: boolean): void {
    countThrottled(op);
    if (release) this.limit.release(slot, 'throttled');
    else this.limit.answeredThrottled(slot);
  }

  /** Runs `call` under the retry policy, checking the signal before each attempt. */
  private retrying<T>(
    op: StoreOp,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    mayRetry?: () => boolean,
  ): Promise<T> {
    return this.retry.run(op, key, signal, () => this.once(op, key, signal, call), mayRetry);
  }
}

/** `range` when its offset and length are non-negative safe integers, else `InvalidArgument`. */
function checkRange(key: string, range: ByteRange | undefined): ByteRange | undefined {
  if (range === undefined) return undefined;
  const ok = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;
  if (!ok(range.offset) || (range.length !== undefined && !ok(range.length))) {
    throw new StoreError('InvalidArgument', 'range offset and length must be non-negative integers', {
      operation: 'get',
      key,
    });
  }
  return range;
}
