import type { StoreOp } from '../retry.js';
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
  StoreStats,
} from '../store.js';

/** Every {@link StoreOp}, in a stable order. */
export const STORE_OPS: readonly StoreOp[] = ['put', 'get', 'head', 'list', 'delete', 'deleteMany'];

/**
 * The base of every layer: an `ObjectStore` that forwards each call to `inner` unchanged and
 * reports the inner store's `name` and `capabilities`. A layer overrides only the methods it
 * changes, so layers compose freely: `withEvents(store, listener)` is one.
 *
 * @example
 * ```ts
 * class ReadOnlyLayer extends StoreLayer {
 *   override async put(key: string): Promise<PutResult> {
 *     throw new StoreError('PermissionDenied', 'read-only view', { operation: 'put', key });
 *   }
 * }
 * ```
 */
export class StoreLayer implements ObjectStore {
  constructor(
    /** The wrapped store. */
    protected readonly inner: ObjectStore,
  ) {}

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): Readonly<Capabilities> {
    return this.inner.capabilities;
  }

  put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(key, body, options);
  }

  get(key: string, options?: GetOptions): Promise<GetResult> {
    return this.inner.get(key, options);
  }

  head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.inner.head(key, options);
  }

  list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    return this.inner.list(prefix, options);
  }

  delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.inner.delete(key, options);
  }

  deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    return this.inner.deleteMany(keys, options);
  }

  /** The inner store's; a store without one leaves nothing behind to remove. */
  async removeAbandoned(olderThanMs: number, options?: { signal?: AbortSignal }) {
    return (await this.inner.removeAbandoned?.(olderThanMs, options)) ?? { removed: 0, bytes: 0 };
  }

  async ensureExists(options?: { signal?: AbortSignal }): Promise<void> {
    await this.inner.ensureExists?.(options);
  }

  /** The inner store's. */
  readRoom(length: number): number {
    return this.inner.readRoom?.(length) ?? 0;
  }

  /** The inner store's. */
  writeRoom(length: number): number {
    return this.inner.writeRoom?.(length) ?? 0;
  }

  /** The inner store's. */
  stats(): StoreStats | undefined {
    return this.inner.stats?.();
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }
}
