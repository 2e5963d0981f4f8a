import { dirPrefix, joinKey, validateKey } from './keys.js';
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
} from './store.js';

/**
 * A view of `inner` where every key lives under `prefix/`. Keys in and out are relative to the
 * prefix, so the same code works on a whole bucket or one folder of it.
 *
 * @example
 * ```ts
 * const team = new PrefixedStore(store, 'teams/vision');
 * await team.put('a', bytes); // stores teams/vision/a
 * ```
 */
export class PrefixedStore implements ObjectStore {
  readonly name: string;
  readonly capabilities: Readonly<Capabilities>;
  private readonly prefix: string;

  constructor(
    private readonly inner: ObjectStore,
    prefix: string,
  ) {
    this.prefix = dirPrefix(prefix);
    if (this.prefix) validateKey(this.prefix.slice(0, -1), 'prefix');
    this.name = this.prefix ? `${inner.name.replace(/\/$/, '')}/${this.prefix.slice(0, -1)}` : inner.name;
    this.capabilities = inner.capabilities;
  }

  async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    return this.inner.put(this.outer(key, 'put'), body, options);
  }

  async get(key: string, options?: GetOptions): Promise<GetResult> {
    const result = await this.inner.get(this.outer(key, 'get'), options);
    return { ...result, key };
  }

  async head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    const meta = await this.inner.head(this.outer(key, 'head'), options);
    return { ...meta, key };
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const inner: ListOptions = { ...options };
    if (options.startAfter !== undefined) inner.startAfter = this.prefix + options.startAfter;
    for await (const meta of this.inner.list(this.prefix + prefix.replace(/^\/+/, ''), inner)) {
      yield { ...meta, key: meta.key.slice(this.prefix.length) };
    }
  }

  async delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.inner.delete(this.outer(key, 'delete'), options);
  }

  async deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    const result = await this.inner.deleteMany(
      keys.map((k) => this.outer(k, 'deleteMany')),
      options,
    );
    return { errors: result.errors.map((e) => ({ ...e, key: e.key.slice(this.prefix.length) })) };
  }

  /** The inner store's; a store without one leaves nothing behind to remove. */
  async removeAbandoned(olderThanMs: number, options?: { signal?: AbortSignal }) {
    return (await this.inner.removeAbandoned?.(olderThanMs, options)) ?? { removed: 0, bytes: 0 };
  }

  async ensureExists(options?: { signal?: AbortSignal }): Promise<void> {
    await this.inner.ensureExists?.(options);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private outer(key: string, operation: string): string {
    validateKey(key, operation);
    return joinKey(this.prefix, key);
  }
}
