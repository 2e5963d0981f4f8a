import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, BackendGetOptions, BackendPutOptions } from './backend.js';
import { BackendStore, type StoreOptions } from './backend-store.js';
import { bodyChunks } from './body.js';
import { StoreError, throwIfAborted } from './errors.js';
import { compareKeys } from './keys.js';
import type { Capabilities, GetResult, ObjectMeta, PutBody, PutResult } from './store.js';

interface Entry {
  data: Buffer;
  version: string;
  lastModified: Date;
  metadata?: Record<string, string>;
}

/**
 * An in-process backend for unit tests and examples. Keeps every object in memory, so it is not
 * for large data. It enforces the whole contract, conditional writes included.
 */
export class MemoryBackend implements Backend {
  readonly capabilities: Partial<Capabilities> = {
    conditionalCreate: true,
    conditionalReplace: true,
    rangedRead: true,
    maxObjectSize: 2 * 1024 ** 3,
    batchDeleteSize: 1000,
    metadata: true,
    keyIsAlsoPrefix: true,
    preferredConcurrency: 8,
  };
  private readonly objects = new Map<string, Entry>();

  constructor(readonly name = 'memory://') {}

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const parts: Buffer[] = [];
    for await (const chunk of bodyChunks(body)) {
      throwIfAborted(options.signal, 'put', key);
      parts.push(Buffer.from(chunk));
    }
    const data = Buffer.concat(parts);
    if (options.size !== undefined && options.size !== data.length) {
      throw new StoreError('Integrity', `body has ${data.length} bytes, expected ${options.size}`, {
        operation: 'put',
        key,
      });
    }
    // the check and the write happen in one synchronous step: atomic in this process
    const current = this.objects.get(key);
    const { mode } = options;
    if (mode === 'create' && current) {
      throw new StoreError('AlreadyExists', 'the key already exists', { operation: 'put', key });
    }
    if (typeof mode === 'object' && current?.version !== mode.update) {
      throw new StoreError('PreconditionFailed', 'the version does not match', { operation: 'put', key });
    }
    const entry: Entry = { data, version: randomUUID(), lastModified: new Date() };
    if (options.metadata) entry.metadata = { ...options.metadata };
    this.objects.set(key, entry);
    return { version: entry.version, size: data.length };
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const entry = this.entry(key, 'get');
    const size = entry.data.length;
    const offset = Math.min(options.range?.offset ?? 0, size);
    const length = Math.min(options.range?.length ?? size - offset, size - offset);
    const bytes = entry.data.subarray(offset, offset + length);
    return { ...this.meta(key, entry), body: Readable.from([bytes]), range: { offset, length } };
  }

  async head(key: string): Promise<ObjectMeta> {
    return this.meta(key, this.entry(key, 'head'));
  }

  async *list(prefix: string, options: { startAfter?: string }): AsyncIterable<ObjectMeta> {
    const { startAfter } = options;
    const keys = [...this.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (startAfter === undefined || compareKeys(k, startAfter) > 0))
      .sort(compareKeys);
    for (const key of keys) {
      const entry = this.objects.get(key);
      if (entry) yield this.meta(key, entry);
    }
  }

  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }

  private entry(key: string, operation: string): Entry {
    const entry = this.objects.get(key);
    if (!entry) throw new StoreError('NotFound', 'no such key', { operation, key });
    return entry;
  }

  private meta(key: string, entry: Entry): ObjectMeta {
    const meta: ObjectMeta = {
      key,
      size: entry.data.length,
      version: entry.version,
      lastModified: entry.lastModified,
    };
    if (entry.metadata) meta.metadata = { ...entry.metadata };
    return meta;
  }
}

/** A store on a {@link MemoryBackend}: for unit tests and examples. */
export class MemoryStore extends BackendStore {
  constructor(name = 'memory://', options?: StoreOptions) {
    super(new MemoryBackend(name), options);
  }
}
