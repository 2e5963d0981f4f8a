import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  type ListMultipartUploadsCommandOutput,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
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
import { BlockReader, bodyChunks, MAX_KEY_BYTES, PartBuffers, readHead } from '@ckpt/core/backend';
import { checkedBody } from './checked-body.js';
import { type ClientHandle, openClient } from './client.js';
import { deleteEntryError, type ErrorContext, toStoreError } from './errors.js';
import { Md5Pool } from './md5-pool.js';
import { choosePartSize, uploadMultipart } from './multipart.js';
import { MAX_OBJECT_SIZE, type ResolvedOptions, resolveOptions, type S3BackendOptions } from './options.js';
import { conditionHeaders, parseContentRange, rangeHeader, versionOf } from './wire.js';

/** Keys per DeleteObjects request (S3's limit). */
const DELETE_BATCH = 1000;

/**
 * A backend on Amazon S3 or an S3-compatible server (MinIO, R2, Ceph RGW).
 *
 * - `put`: one PutObject up to `multipartThreshold` (default 16 MiB), else a multipart upload
 *   with `concurrency` parts of `partSize` in flight (memory ≈ concurrency × partSize per put),
 *   aborted on any failure. Integrity: CRC32 by the SDK, or Content-MD5 with `checksums: 'when_required'`.
 * - Conditional puts (`mode: 'create'` as `If-None-Match: *`, `{update}` as `If-Match`) when
 *   `conditionalWrites`; the version token is the quoted ETag.
 * - `get` streams (ranged with `bytes=a-b`), `list` pages ListObjectsV2, `deleteMany` batches 1000.
 *
 * @example
 * ```ts
 * const store = new S3Store({ bucket: 'ckpt', prefix: 'prod', region: 'eu-west-1' });
 * const minio = new S3Store({ bucket: 'b', endpoint: 'http://127.0.0.1:9000', forcePathStyle: true,
 *   conditionalWrites: true, keyIsAlsoPrefix: false });
 * ```
 */
export class S3Backend implements Backend {
  readonly name: string;
  readonly capabilities: Partial<Capabilities>;
  private readonly handle: ClientHandle;
  private readonly options: ResolvedOptions;
  /** Content-MD5 of large bodies off the main thread (`checksums: 'when_required'`); no threads until used. */
  private readonly md5 = new Md5Pool();
  private closed = false;

  constructor(options: S3BackendOptions) {
    this.handle = openClient(options);
    this.options = resolveOptions(options, this.handle.customEndpoint);
    const { bucket, keyPrefix, conditionalWrites, keyIsAlsoPrefix } = this.options;
    this.name = `s3://${bucket}${keyPrefix ? `/${keyPrefix.slice(0, -1)}` : ''}`;
    this.capabilities = Object.freeze({
      conditionalCreate: conditionalWrites,
      conditionalReplace: conditionalWrites,
      rangedRead: true,
      maxObjectSize: MAX_OBJECT_SIZE,
      batchDeleteSize: DELETE_BATCH,
      keyIsAlsoPrefix,
      preferredConcurrency: 8,
    });
  }

  /** The SDK client in use (yours, or the one built from the options). */
  get client(): S3Client {
    return this.handle.client;
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const objectKey = this.objectKey(key);
    const { size, signal } = options;
    const buffers = new PartBuffers(choosePartSize(this.options.partSize, size));
    const reader = new BlockReader(bodyChunks(body), key);
    try {
      const head = await readHead(reader, buffers, this.options.multipartThreshold, {
        size: options.size,
        signal: options.signal,
        key,
      });
      if (head.complete) {
        const bytes =
          head.blocks.length === 1 ? head.blocks[0]!.bytes : Buffer.concat(head.blocks.map((b) => b.bytes));
        return await this.putObject(key, bytes, options);
      }
      return await uploadMultipart(
        {
          client: this.client,
          bucket: this.options.bucket,
          objectKey,
          key,
          concurrency: this.options.concurrency,
          checksum: await this.handle.checksum(),
          md5: this.md5,
          size,
          metadata: options.metadata,
          mode: options.mode,
          signal,
        },
        head.blocks,
        reader,
        buffers,
      );
    } catch (err) {
      void reader.close().catch(() => {});
      throw err;
    }
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const { range, signal } = options;
    const context = this.context('get', key);
    const header = rangeHeader(range);
    let out: GetObjectCommandOutput;
    try {
      out = await this.client.send(
        new GetObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key), Range: header }),
        { abortSignal: signal },
      );
    } catch (err) {
      // 416: the range starts at or after the end; the contract answers with no bytes
      if (range && (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 416) {
        return this.emptyRange(key, range.offset, signal);
      }
      throw err;
    }
    const available = out.ContentLength;
    if (available === undefined) {
      (out.Body as Readable | undefined)?.destroy?.();
      throw new StoreError('Internal', 'the answer has no Content-Length', context);
    }
    // a server that ignores the Range header answers 200 with the whole object: usable from offset 0
    const returned =
      parseContentRange(out.ContentRange) ?? (range?.offset ? undefined : { offset: 0, total: available });
    if (!returned || (range && returned.offset !== range.offset)) {
      (out.Body as Readable | undefined)?.destroy?.();
      throw new StoreError(
        'Internal',
        `the server answered ${out.ContentRange ?? 'no range'} to ${header}`,
        context,
      );
    }
    const wanted = Math.min(available, range?.length ?? available);
    return {
      ...this.meta(key, out, returned.total),
      body: checkedBody(out.Body ?? Readable.from([]), available, wanted, context, signal),
      range: { offset: returned.offset, length: wanted },
    };
  }

  async head(key: string, options: { signal?: AbortSignal }): Promise<ObjectMeta> {
    const out = await this.client.send(
      new HeadObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      { abortSignal: options.signal },
    );
    return this.meta(key, out, out.ContentLength ?? 0);
  }

  async *list(
    prefix: string,
    options: { startAfter?: string; signal?: AbortSignal },
  ): AsyncIterable<ObjectMeta> {
    const listPrefix = this.options.keyPrefix + prefix;
    const context = this.context('list', prefix || '(all)');
    const strip = this.options.keyPrefix.length;
    let token: string | undefined;
    let first = true;
    while (first || token) {
      const page: ListObjectsV2CommandOutput = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.options.bucket,
          Prefix: listPrefix || undefined,
          StartAfter:
            first && options.startAfter !== undefined ? this.objectKey(options.startAfter) : undefined,
          ContinuationToken: token,
          MaxKeys: this.options.listPageSize,
        }),
        { abortSignal: options.signal },
      );
      first = false;
      for (const object of page.Contents ?? []) {
        const key = object.Key?.slice(strip);
        if (!key) continue;
        yield {
          key,
          size: object.Size ?? 0,
          version: versionOf(object.ETag, 'list', key),
          lastModified: object.LastModified ?? new Date(0),
        };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
      if (page.IsTruncated && !token)
        throw new StoreError('Internal', 'a truncated page has no token', context);
    }
  }

  async delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.options.bucket, Key: this.objectKey(key) }),
      {
        abortSignal: options.signal,
      },
    );
  }

  /** One DeleteObjects request of at most 1000 keys; missing keys are not errors. */
  async deleteBatch(keys: string[], options: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    const out = await this.client.send(
      new DeleteObjectsCommand({
        Bucket: this.options.bucket,
        Delete: { Objects: keys.map((key) => ({ Key: this.objectKey(key) })), Quiet: true },
      }),
      { abortSignal: options.signal },
    );
    const strip = this.options.keyPrefix.length;
    const errors = (out.Errors ?? [])
      .filter((entry) => entry.Code !== 'NoSuchKey')
      .map((entry) => {
        const key = entry.Key?.slice(strip) ?? '(unknown)';
        return { key, error: deleteEntryError(entry.Code, entry.Message, key) };
      });
    return { errors };
  }

  /** Aborts the store's incomplete multipart uploads started more than `olderThanMs` ago: puts whose process died. */
  async removeAbandoned(
    olderThanMs: number,
    options: { signal?: AbortSignal },
  ): Promise<{ removed: number; bytes: number }> {
    const cutoff = Date.now() - olderThanMs;
    let removed = 0;
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    do {
      options.signal?.throwIfAborted();
      const page: ListMultipartUploadsCommandOutput = await this.client.send(
        // the whole bucket's, filtered here: MinIO lists only an exact key's uploads by prefix
        new ListMultipartUploadsCommand({
          Bucket: this.options.bucket,
          KeyMarker: keyMarker,
          UploadIdMarker: uploadIdMarker,
        }),
        { abortSignal: options.signal },
      );
      for (const upload of page.Uploads ?? []) {
        if (!upload.Key?.startsWith(this.options.keyPrefix) || !upload.UploadId) continue;
        if ((upload.Initiated?.getTime() ?? 0) >= cutoff) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({
            Bucket: this.options.bucket,
            Key: upload.Key,
            UploadId: upload.UploadId,
          }),
          { abortSignal: options.signal },
        );
        removed++;
      }
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      uploadIdMarker = page.IsTruncated ? page.NextUploadIdMarker : undefined;
    } while (keyMarker);
    // the parts' sizes would cost a ListParts per upload: the bytes freed are not counted
    return { removed, bytes: 0 };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.handle.owned) this.client.destroy();
    await this.md5.close();
  }

  private async putObject(key: string, bytes: Buffer, options: BackendPutOptions): Promise<PutResult> {
    const checksum = await this.handle.checksum();
    const out = await this.client.send(
      new PutObjectCommand({
        Bucket: this.options.bucket,
        Key: this.objectKey(key),
        Body: bytes,
        ContentLength: bytes.length,
        ContentMD5: checksum === 'md5' ? await this.md5.digest(bytes, { operation: 'put', key }) : undefined,
        Metadata: options.metadata,
        ...conditionHeaders(options.mode),
      }),
      { abortSignal: options.signal },
    );
    return { version: versionOf(out.ETag, 'put', key), size: bytes.length };
  }

  /** The answer to a range that holds no bytes: the object's metadata and an empty body. */
  private async emptyRange(key: string, offset: number, signal: AbortSignal | undefined): Promise<GetResult> {
    const meta = await this.head(key, { signal });
    return { ...meta, body: Readable.from([]), range: { offset: Math.min(offset, meta.size), length: 0 } };
  }

  private meta(
    key: string,
    out: { ETag?: string; LastModified?: Date; Metadata?: Record<string, string> },
    size: number,
  ): ObjectMeta {
    const meta: ObjectMeta = {
      key,
      size,
      version: versionOf(out.ETag, 'head', key),
      lastModified: out.LastModified ?? new Date(0),
    };
    if (out.Metadata && Object.keys(out.Metadata).length > 0) meta.metadata = { ...out.Metadata };
    return meta;
  }

  /** The S3 key of `key`: the store prefix and the key, within S3's key length. */
  private objectKey(key: string): string {
    const objectKey = this.options.keyPrefix + key;
    if (Buffer.byteLength(objectKey) > MAX_KEY_BYTES) {
      throw new StoreError(
        'InvalidArgument',
        `key is longer than ${MAX_KEY_BYTES} bytes with the store prefix "${this.options.keyPrefix}"`,
        { key },
      );
    }
    return objectKey;
  }

  toStoreError(error: unknown, context: StoreErrorContext): StoreError {
    return toStoreError(error, this.context(context.operation, context.key ?? '', context.mode));
  }

  private context(operation: string, key: string, mode?: PutMode): ErrorContext {
    const context: ErrorContext = {
      operation,
      key,
      bucket: this.options.bucket,
      store: this.name,
      timeoutMs: this.handle.timeoutMs,
    };
    if (mode === 'create') context.condition = 'create';
    else if (typeof mode === 'object') context.condition = 'replace';
    return context;
  }
}

/** Options of {@link S3Store}: the backend's and the store's (retries). */
export type S3StoreOptions = S3BackendOptions & StoreOptions;

/** The store on an {@link S3Backend}: `new S3Store({ bucket, region })`. */
export class S3Store extends BackendStore {
  constructor(options: S3StoreOptions) {
    super(new S3Backend(options), options);
  }

  /** The SDK client in use. */
  get client(): S3Client {
    return (this.backend as S3Backend).client;
  }
}
