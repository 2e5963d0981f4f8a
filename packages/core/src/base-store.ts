import pLimit from 'p-limit';
import { StoreError } from './errors.js';
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
import { DEFAULT_CAPABILITIES } from './store.js';

/**
 * A base class for adapters: safe default capabilities (override `capabilities` with the ones
 * your backend really has), a `deleteMany` that loops over `delete` with bounded concurrency,
 * and `checkPutOptions`, which rejects conditional puts the store cannot enforce.
 *
 * @example
 * ```ts
 * class MyStore extends BaseStore {
 *   readonly name = 'my://bucket';
 *   override readonly capabilities = { ...DEFAULT_CAPABILITIES, rangedRead: true };
 *   async put(key, body, options) { this.checkPutOptions(key, options); … }
 *   …
 * }
 * ```
 */
export abstract class BaseStore implements ObjectStore {
  abstract readonly name: string;
  readonly capabilities: Readonly<Capabilities> = DEFAULT_CAPABILITIES;

  abstract put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult>;
  abstract get(key: string, options?: GetOptions): Promise<GetResult>;
  abstract head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta>;
  abstract list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta>;
  abstract delete(key: string, options?: { signal?: AbortSignal }): Promise<void>;

  async deleteMany(keys: string[], options: { signal?: AbortSignal } = {}): Promise<DeleteManyResult> {
    const limit = pLimit(this.capabilities.preferredConcurrency);
    const errors: DeleteManyResult['errors'] = [];
    await Promise.all(
      keys.map((key) =>
        limit(async () => {
          try {
            await this.delete(key, options);
          } catch (error) {
            errors.push({ key, error: error as Error });
          }
        }),
      ),
    );
    return { errors };
  }

  async close(): Promise<void> {}

  /** Throws `Unsupported` for a conditional put this store's capabilities do not enforce. */
  protected checkPutOptions(key: string, options: PutOptions | undefined): void {
    if (options?.ifNoneMatch !== undefined && options.ifNoneMatch !== '*') {
      throw new StoreError('InvalidArgument', 'ifNoneMatch must be "*"', { operation: 'put', key });
    }
    if (options?.ifNoneMatch && options.ifMatch !== undefined) {
      throw new StoreError('InvalidArgument', 'ifNoneMatch and ifMatch are exclusive', {
        operation: 'put',
        key,
      });
    }
    if (options?.ifNoneMatch && !this.capabilities.conditionalCreate) {
      throw new StoreError('Unsupported', `${this.name} cannot enforce create-only puts`, {
        operation: 'put',
        key,
      });
    }
    if (options?.ifMatch !== undefined && !this.capabilities.conditionalReplace) {
      throw new StoreError('Unsupported', `${this.name} cannot enforce compare-and-swap puts`, {
        operation: 'put',
        key,
      });
    }
  }
}
