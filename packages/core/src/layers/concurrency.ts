import { finished } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import { abortError } from '../errors.js';
import type {
  Capabilities,
  DeleteManyResult,
  GetOptions,
  GetResult,
  ListOptions,
  ObjectMeta,
  ObjectStore,
  PutBody,
  PutOptions,
  PutResult,
} from '../store.js';
import { StoreLayer, type StoreOp } from './layer.js';
import { checkNumber } from './options.js';

/**
 * Runs at most `limit` requests on the inner store at once; the others wait in order. A waiting
 * request whose `signal` fires is rejected with `Aborted` at once and never runs.
 *
 * A `get` holds its slot until its body stream ends, errors or is destroyed, so the limit bounds
 * downloads too. **Consume or destroy every body**: an abandoned body keeps its slot forever, and
 * with `limit` of them every later request waits forever. For the same reason, do not wait for a
 * second `get` before consuming the first when the limit may be reached.
 *
 * A `list` takes a slot for its first page only (the start of the iteration); `deleteMany` takes
 * one slot for the whole call. `capabilities.preferredConcurrency` is capped at `limit`.
 *
 * @example
 * ```ts
 * const store = withRetry(withConcurrency(new S3Store(options), 16));
 * ```
 */
export class ConcurrencyLayer extends StoreLayer {
  private readonly limiter: LimitFunction;
  private readonly caps: Readonly<Capabilities>;

  constructor(inner: ObjectStore, limit: number) {
    super(inner);
    this.limiter = pLimit(checkNumber('withConcurrency', 'limit', limit, { min: 1, integer: true }));
    this.caps = {
      ...inner.capabilities,
      preferredConcurrency: Math.min(inner.capabilities.preferredConcurrency, limit),
    };
  }

  override get capabilities(): Readonly<Capabilities> {
    return this.caps;
  }

  /** Requests running now (a `get` counts until its body is done). */
  get activeCount(): number {
    return this.limiter.activeCount;
  }

  /** Requests waiting for a slot. */
  get pendingCount(): number {
    return this.limiter.pendingCount;
  }

  override put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    return this.run('put', key, options?.signal, () => this.inner.put(key, body, options));
  }

  override get(key: string, options?: GetOptions): Promise<GetResult> {
    return this.run(
      'get',
      key,
      options?.signal,
      () => this.inner.get(key, options),
      (result) =>
        new Promise<void>((release) => {
          const cleanup = finished(result.body, () => {
            cleanup();
            release();
          });
        }),
    );
  }

  override head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.run('head', key, options?.signal, () => this.inner.head(key, options));
  }

  override delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.run('delete', key, options?.signal, () => this.inner.delete(key, options));
  }

  override deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    return this.run('deleteMany', keys[0] ?? '', options?.signal, () => this.inner.deleteMany(keys, options));
  }

  override async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const iterator = this.inner.list(prefix, options)[Symbol.asyncIterator]();
    let finishedIteration = false;
    try {
      let step = await this.run('list', prefix, options.signal, () => iterator.next());
      while (!step.done) {
        yield step.value;
        step = await iterator.next();
      }
      finishedIteration = true;
    } finally {
      if (!finishedIteration) await iterator.return?.();
    }
  }

  /** Runs `call` in a slot; `hold`, when given, keeps the slot after success until it settles. */
  private run<T>(
    op: StoreOp,
    key: string,
    signal: AbortSignal | undefined,
    call: () => Promise<T>,
    hold?: (result: T) => Promise<void>,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(abortError(signal, op, key));
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      void this.limiter(async () => {
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return; // aborted while waiting: already rejected
        let result: T;
        try {
          result = await call();
        } catch (error) {
          reject(error);
          return;
        }
        resolve(result);
        await hold?.(result);
      });
    });
  }
}

/** Wraps `store` in a {@link ConcurrencyLayer} of `limit` slots. */
export function withConcurrency(store: ObjectStore, limit: number): ConcurrencyLayer {
  return new ConcurrencyLayer(store, limit);
}
