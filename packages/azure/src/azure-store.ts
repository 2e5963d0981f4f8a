import { Readable, Transform } from 'node:stream';
import type { ContainerClient, StoragePipelineOptions } from '@azure/storage-blob';
import {
  type Backend,
  type BackendGetOptions,
  type BackendPutOptions,
  BackendStore,
  type Capabilities,
  type DeleteManyResult,
  type GetResult,
  type ObjectMeta,
  type PutBody,
  type PutMode,
  type PutResult,
  StoreError,
  type ErrorContext as StoreErrorContext,
  type StoreOptions,
} from '@ckpt/core';
import {
  BlockReader,
  bodyChunks,
  MAX_KEY_BYTES,
  PartBuffers,
  readHead,
  timeoutError,
} from '@ckpt/core/backend';
import { type AuthMode, containerClient, resolveAuth } from './auth.js';
import { batchEntryError, type ErrorContext, factsOf, toStoreError } from './errors.js';
import {
  type AzureBackendOptions,
  chooseBlockSize,
  MAX_OBJECT_SIZE,
  type ResolvedOptions,
  resolveOptions,
} from './options.js';
import { conditionsOf, md5, uploadBlocks } from './upload.js';

/** Sub-requests per Blob Batch request (Azure's limit). */
export const BATCH_SIZE = 256;

/**
 * A backend on Azure Blob Storage (block blobs), or on Azurite.
 *
 * - `put`: one Put Blob up to `singleUploadThreshold` (default 16 MiB), else blocks of
 *   `blockSize` staged `concurrency` at a time and committed with one Put Block List; each request
 *   carries the MD5 of its bytes, which Azure checks. Nothing is committed on a failure or abort.
 * - Conditional puts: `mode: 'create'` as `If-None-Match: *`, `{update}` as `If-Match`; the version
 *   token is the quoted ETag.
 * - `get` streams (ranged), `list` pages List Blobs, `deleteBatch` sends Blob Batch requests of 256.
 * - The SDK makes one attempt per request (the store retries); every request gives up after
 *   `timeoutMs` without an answer, a download body after `timeoutMs` of silence.
 *
 * @example
 * ```ts
 * const store = new AzureStore({ container: 'ckpt', account: 'acme', prefix: 'prod' }); // DefaultAzureCredential
 * const mine = new AzureStore({ containerClient, prefix: 'prod' }); // your own client
 * ```
 */
export class AzureBackend implements Backend {
  readonly name: string;
  readonly capabilities: Partial<Capabilities>;
  /** How the client authenticates; undefined for a caller's client. */
  readonly auth: AuthMode | undefined;
  private readonly container: ContainerClient;
  private readonly options: ResolvedOptions;

  constructor(options: AzureBackendOptions) {
    this.options = resolveOptions(options);
    if ('containerClient' in options) {
      this.container = options.containerClient;
      this.auth = undefined;
    } else {
      const auth = resolveAuth(options, options.env ?? process.env);
      this.container = containerClient(options, auth, AzureBackend.pipeline());
      this.auth = auth.mode;
    }
    const prefix = this.options.keyPrefix;
    this.name = `az://${this.container.containerName}${prefix ? `/${prefix.slice(0, -1)}` : ''}`;
    this.capabilities = Object.freeze({
      conditionalCreate: true,
      conditionalReplace: true,
      rangedRead: true,
      maxObjectSize: MAX_OBJECT_SIZE,
      batchDeleteSize: BATCH_SIZE,
      keyIsAlsoPrefix: true,
      preferredConcurrency: 8,
    });
  }

  /** Pipeline options of the clients a backend builds: one attempt, the store retries. */
  static pipeline(): StoragePipelineOptions {
    return { retryOptions: { maxTries: 1 } };
  }

  /** The SDK container client in use (yours, or the one built from the options). */
  get containerClient(): ContainerClient {
    return this.container;
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const blob = this.container.getBlockBlobClient(this.blobName(key));
    const { size, signal, mode } = options;
    const buffers = new PartBuffers(chooseBlockSize(this.options.blockSize, size));
    const reader = new BlockReader(bodyChunks(body), key);
    try {
      const head = await readHead(reader, buffers, this.options.singleUploadThreshold, { size, signal, key });
      if (head.complete) {
        const bytes =
          head.blocks.length === 1 ? head.blocks[0]!.bytes : Buffer.concat(head.blocks.map((b) => b.bytes));
        const out = await this.call('put', key, signal, (s) =>
          blob.upload(bytes, bytes.length, {
            abortSignal: s,
            conditions: conditionsOf(mode),
            transactionalContentMD5: md5(bytes),
          }),
        );
        return { version: versionOf(out.etag, 'put', key), size: bytes.length };
      }
      const result = await uploadBlocks(
        {
          blob,
          key,
          concurrency: this.options.concurrency,
          size,
          mode,
          signal,
          call: (run, s) => this.call('put', key, s, run),
        },
        head.blocks,
        reader,
        buffers,
      );
      return { ...result, version: versionOf(result.version, 'put', key) };
    } catch (err) {
      void reader.close().catch(() => {});
      throw err;
    }
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const { range, signal } = options;
    const blob = this.container.getBlobClient(this.blobName(key));
    const offset = range?.offset ?? 0;
    let out: Awaited<ReturnType<typeof blob.download>>;
    try {
      out = await this.call('get', key, signal, (s) =>
        // maxRetryRequests 0: the store resumes a broken body itself, from the same version
        blob.download(offset, range?.length, { abortSignal: s, maxRetryRequests: 0 }),
      );
    } catch (err) {
      // 416: the range starts at or after the end; the contract answers with no bytes
      if (range && factsOf(err).status === 416) return this.emptyRange(key, range.offset, signal);
      throw err;
    }
    const body = out.readableStreamBody as Readable | undefined;
    const length = out.contentLength;
    const total = totalOf(out.contentRange) ?? (offset === 0 ? length : undefined);
    if (length === undefined || total === undefined) {
      body?.destroy();
      throw new StoreError('Internal', `the answer has no length (Content-Range ${out.contentRange})`, {
        operation: 'get',
        key,
      });
    }
    return {
      ...this.meta(key, out, total),
      body: this.watched(body ?? Readable.from([]), key),
      range: { offset: Math.min(offset, total), length },
    };
  }

  async head(key: string, options: { signal?: AbortSignal }): Promise<ObjectMeta> {
    const blob = this.container.getBlobClient(this.blobName(key));
    const out = await this.call('head', key, options.signal, (s) => blob.getProperties({ abortSignal: s }));
    return this.meta(key, out, out.contentLength ?? 0);
  }

  /**
   * Pages through List Blobs from `prefix`; Azure has no "start after" for flat listings, so keys
   * up to `startAfter` are skipped here (a resumed listing reads its first pages again).
   */
  async *list(
    prefix: string,
    options: { startAfter?: string; signal?: AbortSignal },
  ): AsyncIterable<ObjectMeta> {
    const strip = this.options.keyPrefix.length;
    const listPrefix = this.options.keyPrefix + prefix;
    const after = options.startAfter === undefined ? undefined : Buffer.from(options.startAfter);
    let token: string | undefined;
    do {
      const page = await this.call('list', prefix, options.signal, async (s) => {
        const pages = this.container
          .listBlobsFlat({ ...(listPrefix ? { prefix: listPrefix } : {}), abortSignal: s })
          .byPage({ maxPageSize: this.options.listPageSize, ...(token ? { continuationToken: token } : {}) });
        return (await pages.next()).value;
      });
      for (const item of page?.segment.blobItems ?? []) {
        const key = item.name.slice(strip);
        if (!key || (after && Buffer.compare(Buffer.from(key), after) <= 0)) continue;
        yield {
          key,
          size: item.properties.contentLength ?? 0,
          version: versionOf(item.properties.etag, 'list', key),
          lastModified: item.properties.lastModified,
        };
      }
      token = page?.continuationToken || undefined;
    } while (token);
  }

  async delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
    const blob = this.container.getBlobClient(this.blobName(key));
    // deleteIfExists: a missing blob is success (ContainerNotFound still fails)
    await this.call('delete', key, options.signal, (s) => blob.deleteIfExists({ abortSignal: s }));
  }

  /** One Blob Batch request of at most 256 deletes; missing blobs are not errors. */
  async deleteBatch(keys: string[], options: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    const clients = keys.map((key) => this.container.getBlobClient(this.blobName(key)));
    const byUrl = new Map(clients.map((client, i) => [client.url, keys[i]!]));
    const out = await this.call('delete', keys[0], options.signal, (s) =>
      this.container.getBlobBatchClient().deleteBlobs(clients, { abortSignal: s }),
    );
    const errors: DeleteManyResult['errors'] = [];
    for (const [i, sub] of out.subResponses.entries()) {
      if (sub.status < 300 || sub.status === 404) continue;
      const key = byUrl.get(sub._request.url) ?? keys[i] ?? '(unknown)';
      errors.push({
        key,
        error: batchEntryError(sub.status, sub.errorCode, key, this.context('delete', key)),
      });
    }
    return { errors };
  }

  /**
   * Runs one SDK call under the timeout: a request without an answer within `timeoutMs` is
   * cancelled and fails with a retryable `Unavailable` (the SDK would read it as an abort).
   */
  private async call<T>(
    operation: string,
    key: string | undefined,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), this.options.timeoutMs);
    try {
      return await run(signal ? AbortSignal.any([signal, timer.signal]) : timer.signal);
    } catch (err) {
      if (timer.signal.aborted && !signal?.aborted) {
        throw timeoutError(this.options.timeoutMs, { operation, key, cause: err });
      }
      throw err;
    } finally {
      clearTimeout(timeout);
    }
  }

  /**
   * `body`, failed with a retryable `Unavailable` once it stays silent for `timeoutMs`, or when
   * its connection closes before its end: the SDK's stream then fails with an `AbortError`, which
   * would read as the caller's abort (the caller's own abort is told by its signal, not by this).
   */
  private watched(body: Readable, key: string): Readable {
    const ms = this.options.timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const out = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        timer?.refresh();
        done(null, chunk);
      },
    });
    timer = setTimeout(() => {
      out.destroy(timeoutError(ms, { operation: 'get', key }));
    }, ms);
    out.on('close', () => {
      clearTimeout(timer);
      if (!body.destroyed) body.destroy();
    });
    body.on('error', (err) =>
      out.destroy(
        err.name === 'AbortError'
          ? new StoreError('Unavailable', 'the connection closed before the body ended', {
              operation: 'get',
              key,
              cause: err,
            })
          : err,
      ),
    );
    body.pipe(out);
    return out;
  }

  /** The answer to a range that holds no bytes: the object's metadata and an empty body. */
  private async emptyRange(key: string, offset: number, signal: AbortSignal | undefined): Promise<GetResult> {
    const meta = await this.head(key, { signal });
    return { ...meta, body: Readable.from([]), range: { offset: Math.min(offset, meta.size), length: 0 } };
  }

  private meta(key: string, out: { etag?: string; lastModified?: Date }, size: number): ObjectMeta {
    return {
      key,
      size,
      version: versionOf(out.etag, 'head', key),
      lastModified: out.lastModified ?? new Date(0),
    };
  }

  /** The blob name of `key`: the store prefix and the key, within Azure's name length. */
  private blobName(key: string): string {
    const name = this.options.keyPrefix + key;
    if (Buffer.byteLength(name) > MAX_KEY_BYTES) {
      throw new StoreError(
        'InvalidArgument',
        `key is longer than ${MAX_KEY_BYTES} bytes with the store prefix "${this.options.keyPrefix}"`,
        { key },
      );
    }
    return name;
  }

  toStoreError(error: unknown, context: StoreErrorContext): StoreError {
    return toStoreError(error, this.context(context.operation, context.key, context.mode));
  }

  private context(operation: string, key: string | undefined, mode?: PutMode): ErrorContext {
    const context: ErrorContext = { operation, store: this.name };
    if (key !== undefined) context.key = key;
    if (this.auth) context.auth = this.auth;
    if (mode === 'create') context.condition = 'create';
    else if (typeof mode === 'object') context.condition = 'replace';
    return context;
  }
}

/**
 * The version token for an ETag: always the quoted form (`"0x8D…"`), so tokens from `put`, `head`
 * and `list` (which answers them unquoted) compare equal and can be sent back as `If-Match`.
 */
export function versionOf(etag: string | undefined, operation: string, key: string): string {
  if (!etag) throw new StoreError('Internal', 'the answer has no ETag', { operation, key });
  return etag.startsWith('"') ? etag : `"${etag}"`;
}

/** The total size in a `bytes a-b/total` Content-Range, or undefined. */
function totalOf(contentRange: string | undefined): number | undefined {
  const match = contentRange ? /^bytes \d+-\d+\/(\d+)$/.exec(contentRange.trim()) : null;
  return match ? Number(match[1]) : undefined;
}

/** Options of {@link AzureStore}: the backend's and the store's (retries). */
export type AzureStoreOptions = AzureBackendOptions & StoreOptions;

/** The store on an {@link AzureBackend}: `new AzureStore({ container, account })`. */
export class AzureStore extends BackendStore {
  constructor(options: AzureStoreOptions) {
    super(new AzureBackend(options), options);
  }

  /** The SDK container client in use. */
  get containerClient(): ContainerClient {
    return (this.backend as AzureBackend).containerClient;
  }
}
