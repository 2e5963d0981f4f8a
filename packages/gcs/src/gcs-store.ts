import { type EventEmitter, once } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import {
  type Backend,
  type BackendGetOptions,
  type BackendPutOptions,
  BackendStore,
  type Capabilities,
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
  abortable,
  abortError,
  BlockReader,
  bodyChunks,
  MAX_KEY_BYTES,
  PartBuffers,
  readHead,
} from '@ckpt/core/backend';
import {
  Bucket,
  CRC32C,
  type File,
  type FileMetadata,
  type PreconditionOptions,
  Storage,
} from '@google-cloud/storage';
import { type ErrorContext, toStoreError } from './errors.js';
import {
  CLIENT_DEFAULTS,
  type GcsBackendOptions,
  type GcsConnectionOptions,
  MAX_OBJECT_SIZE,
  type ResolvedOptions,
  resolveOptions,
  storageOptions,
} from './options.js';
import { uploadResumable } from './resumable-upload.js';
import { Watchdog, withDeadline } from './watchdog.js';

/** Listeners a download's response body may hold before Node warns (the SDK's layers hold about 12). */
const RESPONSE_BODY_LISTENERS = 24;

/**
 * Lets the answer a download stream of the SDK announces (`response`: its body stream) hold the
 * listeners node-fetch, teeny-request and the SDK's own pipeline each put on it: a dozen by design,
 * however large the body, over Node's default of 10, which would print MaxListenersExceededWarning.
 */
export function allowResponseListeners(download: Readable): void {
  download.once('response', (body: EventEmitter) => body.setMaxListeners(RESPONSE_BODY_LISTENERS));
}

/**
 * A backend on Google Cloud Storage (or an emulator such as fake-gcs-server).
 *
 * - `put`: a body up to `resumableThreshold` (default 16 MiB) in one request carrying its
 *   CRC32C, else a resumable upload in `chunkSize` chunks whose last one carries the whole
 *   object's CRC32C in `X-Goog-Hash`: GCS refuses bytes that do not match either way. The
 *   object appears only once whole: a failed or aborted put leaves the key as it was.
 * - The version token is the object's generation; `mode: 'create'` sends `ifGenerationMatch: 0`,
 *   `{update: g}` sends `ifGenerationMatch: g`.
 * - `get` streams, ranged with `Range: bytes=a-b`; `list` pages the objects listing (GCS lists in
 *   byte order); deletes go key by key (the Node SDK has no batch request).
 *
 * @example
 * ```ts
 * const store = new GcsStore({ bucket: 'ckpt', prefix: 'prod' });
 * const fake = new GcsStore({ bucket: 'b', apiEndpoint: 'http://127.0.0.1:4443' });
 * ```
 */
export class GcsBackend implements Backend {
  readonly name: string;
  readonly capabilities: Partial<Capabilities>;
  /** The SDK bucket the backend talks to (yours, or one on the `Storage` built from the options). */
  readonly bucket: Bucket;
  private readonly options: ResolvedOptions;
  private readonly timeoutMs: number;
  /** The credentials' first access token, fetched once (see {@link authenticated}). */
  private auth: Promise<void> | undefined;

  constructor(options: GcsBackendOptions) {
    this.options = resolveOptions(options);
    if (options.bucket instanceof Bucket) {
      this.bucket = options.bucket;
    } else if ('storage' in options) {
      this.bucket = options.storage.bucket(checkBucketName(options.bucket));
    } else {
      const connection = options as GcsConnectionOptions;
      this.bucket = new Storage(storageOptions(connection)).bucket(checkBucketName(connection.bucket));
    }
    this.timeoutMs =
      ('timeoutMs' in options ? options.timeoutMs : undefined) ??
      this.bucket.storage.timeout ??
      CLIENT_DEFAULTS.timeoutMs;
    const { keyPrefix } = this.options;
    this.name = `gs://${this.bucket.name}${keyPrefix ? `/${keyPrefix.slice(0, -1)}` : ''}`;
    this.capabilities = Object.freeze({
      conditionalCreate: true,
      conditionalReplace: true,
      rangedRead: true,
      maxObjectSize: MAX_OBJECT_SIZE,
      metadata: true,
      keyIsAlsoPrefix: true,
      preferredConcurrency: 16,
    });
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const file = this.file(key);
    const context = this.context('put', key, options.mode);
    const { size, signal } = options;
    const buffers = new PartBuffers(this.options.chunkSize);
    const reader = new BlockReader(bodyChunks(body), key);
    try {
      await this.authenticated(signal);
      const head = await readHead(reader, buffers, this.options.resumableThreshold, { size, signal, key });
      const metadata: FileMetadata = { contentType: 'application/octet-stream' };
      if (options.metadata) metadata.metadata = { ...options.metadata };
      const conditions = preconditions(options.mode);
      if (head.complete) {
        const { blocks } = head;
        const whole = blocks.length === 1 ? blocks[0]!.bytes : Buffer.concat(blocks.map((b) => b.bytes));
        return await this.putOnce(file, whole, metadata, conditions, signal);
      }
      const job = { file, metadata, preconditions: conditions, size, key, signal };
      return await uploadResumable({ ...job, timeoutMs: this.timeoutMs }, head.blocks, reader, buffers);
    } catch (error) {
      void reader.close().catch(() => {});
      throw this.rethrow(error, context, signal);
    }
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const { range, signal } = options;
    const context = this.context('get', key);
    const file = this.file(key);
    try {
      await this.authenticated(signal);
    } catch (error) {
      throw this.rethrow(error, context, signal);
    }
    const ranged = range !== undefined && (range.offset > 0 || range.length !== undefined);
    const stream = file.createReadStream({
      // a full read is checked against the object's CRC32C; a range has no checksum to check
      validation: ranged ? false : 'crc32c',
      ...(ranged ? { start: range.offset } : {}),
      ...(ranged && range.length !== undefined ? { end: range.offset + range.length - 1 } : {}),
    });
    let response: { headers: Record<string, string | string[] | undefined>; statusCode?: number };
    allowResponseListeners(stream);
    const watchdog = new Watchdog(this.timeoutMs, (error) => stream.destroy(error));
    try {
      const answered = once(stream, 'response', { signal }) as Promise<[typeof response]>;
      // the SDK sends the request when the stream is first read
      stream.read(0);
      [response] = await answered;
      const status = response.statusCode ?? 200;
      // 416: the range starts at or after the end; the contract answers with no bytes
      if (status === 416 && range) {
        watchdog.stop();
        stream.destroy();
        return await this.emptyRange(key, range.offset, signal);
      }
      // the SDK announces every answer, then fails the stream with the error it reads from the body
      if (status >= 300) {
        const [error] = await once(stream, 'error', { signal });
        throw error ?? new StoreError('Internal', `the server answered HTTP ${status}`, context);
      }
    } catch (error) {
      watchdog.stop();
      stream.destroy();
      throw this.rethrow(error, context, signal);
    }
    const headers = response.headers;
    const header = (name: string) => {
      const value = headers[name];
      return Array.isArray(value) ? value[0] : value;
    };
    const contentRange = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header('content-range') ?? '');
    const total = contentRange
      ? Number(contentRange[3])
      : Number(header('x-goog-stored-content-length') ?? header('content-length'));
    const offset = contentRange ? Number(contentRange[1]) : 0;
    const length = contentRange ? Number(contentRange[2]) - offset + 1 : total;
    const generation = header('x-goog-generation');
    if (!Number.isSafeInteger(total) || !generation || (range && offset !== range.offset)) {
      watchdog.stop();
      stream.destroy();
      throw new StoreError(
        'Internal',
        `the server answered ${header('content-range') ?? 'no range'} without a usable size or generation`,
        context,
      );
    }
    const metadata: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (name.startsWith('x-goog-meta-') && typeof value === 'string') metadata[name.slice(12)] = value;
    }
    const meta: ObjectMeta = {
      key,
      size: total,
      version: generation,
      lastModified: new Date(header('last-modified') ?? 0),
    };
    if (Object.keys(metadata).length > 0) meta.metadata = metadata;
    return {
      ...meta,
      body: this.guardBody(stream, watchdog, context, signal),
      range: { offset, length: range?.length === undefined ? length : Math.min(length, range.length) },
    };
  }

  async head(key: string, options: { signal?: AbortSignal }): Promise<ObjectMeta> {
    const context = this.context('head', key);
    try {
      await this.authenticated(options.signal);
      const [metadata] = await abortable(
        withDeadline(this.file(key).getMetadata(), this.timeoutMs),
        options.signal,
        'head',
        key,
      );
      return this.meta(key, metadata);
    } catch (error) {
      throw this.rethrow(error, context, options.signal);
    }
  }

  async *list(
    prefix: string,
    options: { startAfter?: string; signal?: AbortSignal },
  ): AsyncIterable<ObjectMeta> {
    const context = this.context('list', prefix || '(all)');
    const strip = this.options.keyPrefix.length;
    const startAfter = options.startAfter === undefined ? undefined : this.objectKey(options.startAfter);
    let pageToken: string | undefined;
    do {
      let files: File[];
      let next: { pageToken?: string } | null | undefined;
      try {
        await this.authenticated(options.signal);
        [files, next] = (await abortable(
          withDeadline(
            this.bucket.getFiles({
              autoPaginate: false,
              prefix: this.options.keyPrefix + prefix,
              maxResults: this.options.listPageSize,
              // startOffset is inclusive: the key itself is skipped below
              ...(startAfter !== undefined && pageToken === undefined ? { startOffset: startAfter } : {}),
              ...(pageToken === undefined ? {} : { pageToken }),
            }),
            this.timeoutMs,
          ),
          options.signal,
          'list',
          prefix,
        )) as unknown as [File[], { pageToken?: string } | null];
      } catch (error) {
        throw this.rethrow(error, context, options.signal);
      }
      for (const file of files) {
        if (startAfter !== undefined && file.name === startAfter) continue;
        const key = file.name.slice(strip);
        if (!key) continue;
        yield this.meta(key, file.metadata);
      }
      pageToken = next?.pageToken;
    } while (pageToken);
  }

  async delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
    const context = this.context('delete', key);
    try {
      await this.authenticated(options.signal);
      await abortable(
        withDeadline(this.file(key).delete({ ignoreNotFound: true }), this.timeoutMs),
        options.signal,
        'delete',
        key,
      );
    } catch (error) {
      throw this.rethrow(error, context, options.signal);
    }
  }

  toStoreError(error: unknown, context: StoreErrorContext): StoreError {
    return toStoreError(error, this.context(context.operation, context.key ?? '', context.mode));
  }

  /**
   * Fetches an access token once before the first request to Google. Without it a missing
   * credential goes unnoticed: the SDK then sends the request anonymously and GCS answers 401,
   * which cannot tell "no credentials" from "wrong credentials". Emulators (a custom endpoint)
   * are not authenticated. A failure is not kept: the next call tries again.
   */
  private authenticated(signal: AbortSignal | undefined): Promise<void> {
    const storage = this.bucket.storage;
    if (storage.customEndpoint && !storage.useAuthWithCustomEndpoint) return Promise.resolve();
    this.auth ??= withDeadline(storage.authClient.getAccessToken(), this.timeoutMs).then(
      () => {},
      (error: unknown) => {
        this.auth = undefined;
        throw error;
      },
    );
    return abortable(this.auth, signal);
  }

  /** One request carrying the body's CRC32C, which GCS checks before it makes the object. */
  private async putOnce(
    file: File,
    whole: Buffer,
    metadata: FileMetadata,
    conditions: PreconditionOptions | undefined,
    signal: AbortSignal | undefined,
  ): Promise<PutResult> {
    const crc32c = new CRC32C();
    crc32c.update(whole);
    const stream = file.createWriteStream({
      resumable: false,
      validation: false,
      metadata: { ...metadata, crc32c: crc32c.toString() },
      timeout: this.timeoutMs,
      ...(conditions ? { preconditionOpts: conditions } : {}),
    });
    const finished = new Promise<void>((resolve, reject) => {
      stream.once('finish', resolve);
      stream.once('error', reject);
    });
    const onAbort = () => stream.destroy(abortError(signal, 'put', undefined) ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // bytes leaving are signs of life; a server that stops answering is not
    const watchdog = new Watchdog(this.timeoutMs, (error) => stream.destroy(error));
    stream.on('progress', () => watchdog.poke());
    stream.on('writing', () => watchdog.poke());
    try {
      stream.end(whole);
      await finished;
    } finally {
      watchdog.stop();
      signal?.removeEventListener('abort', onAbort);
    }
    const generation = file.metadata.generation;
    if (generation === undefined || generation === null) {
      throw new StoreError('Internal', 'the upload answered no generation', {
        operation: 'put',
        key: file.name,
      });
    }
    return { version: String(generation), size: whole.length };
  }

  /**
   * The SDK's transport names its own timeout `AbortError`, which the store reads as the caller's
   * abort: read every failure here while the caller's signal says which it was.
   */
  private rethrow(error: unknown, context: ErrorContext, signal: AbortSignal | undefined): unknown {
    if (signal?.aborted || StoreError.is(error)) return error;
    return toStoreError(error, context);
  }

  /** The body of a get, its failures read as StoreErrors (see {@link rethrow}); destroyed on abort. */
  private guardBody(
    stream: Readable,
    watchdog: Watchdog,
    context: ErrorContext,
    signal: AbortSignal | undefined,
  ): Readable {
    const out = new PassThrough({ highWaterMark: 0 });
    // silence while the reader waits is the server's; while the reader dawdles it is not
    stream.on('data', () => watchdog.poke());
    stream.on('pause', () => watchdog.stop());
    stream.on('resume', () => watchdog.poke());
    const onAbort = () => stream.destroy(abortError(signal, 'get', context.key) ?? new Error('aborted'));
    signal?.addEventListener('abort', onAbort, { once: true });
    stream.on('error', (error) => out.destroy(this.rethrow(error, context, signal) as Error));
    out.on('close', () => {
      watchdog.stop();
      signal?.removeEventListener('abort', onAbort);
      stream.destroy();
    });
    stream.pipe(out);
    return out;
  }

  /** The answer to a range that holds no bytes: the object's metadata and an empty body. */
  private async emptyRange(key: string, offset: number, signal: AbortSignal | undefined): Promise<GetResult> {
    const meta = await this.head(key, { signal });
    return { ...meta, body: Readable.from([]), range: { offset: Math.min(offset, meta.size), length: 0 } };
  }

  private meta(key: string, metadata: FileMetadata): ObjectMeta {
    const meta: ObjectMeta = {
      key,
      size: Number(metadata.size ?? 0),
      version: String(metadata.generation),
      lastModified: new Date(metadata.updated ?? 0),
    };
    const custom = metadata.metadata;
    if (custom && Object.keys(custom).length > 0) {
      meta.metadata = Object.fromEntries(Object.entries(custom).map(([k, v]) => [k, String(v)]));
    }
    return meta;
  }

  private file(key: string): File {
    return this.bucket.file(this.objectKey(key));
  }

  /** The object name of `key`: the store prefix and the key, within GCS's 1024-byte names. */
  private objectKey(key: string): string {
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

  private context(operation: string, key: string, mode?: PutMode): ErrorContext {
    const context: ErrorContext = { operation, key, bucket: this.bucket.name, store: this.name };
    if (mode === 'create') context.condition = 'create';
    else if (typeof mode === 'object') context.condition = 'replace';
    return context;
  }
}

/** The generation condition of a put mode: 0 (no live object) for a create, the token for an update. */
function preconditions(mode: PutMode): PreconditionOptions | undefined {
  if (mode === 'create') return { ifGenerationMatch: 0 };
  if (typeof mode === 'object') return { ifGenerationMatch: mode.update };
  return undefined;
}

function checkBucketName(bucket: string): string {
  if (typeof bucket !== 'string' || !/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(bucket)) {
    throw new StoreError('InvalidArgument', 'bucket must be a bucket name', {
      operation: 'GcsBackend options',
    });
  }
  return bucket;
}

/** Options of {@link GcsStore}: the backend's and the store's (retries). */
export type GcsStoreOptions = GcsBackendOptions & StoreOptions;

/** The store on a {@link GcsBackend}: `new GcsStore({ bucket, prefix })`. */
export class GcsStore extends BackendStore {
  constructor(options: GcsStoreOptions) {
    super(new GcsBackend(options), options);
  }

  /** The SDK bucket in use. */
  get bucket(): Bucket {
    return (this.backend as GcsBackend).bucket;
  }
}
