import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { StoreError } from '../errors.js';
import { StoreLayer } from '../layers/layer.js';
import type {
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
import { MODELS, PACKS } from '../sync/layout.js';
import { openInPlace } from './open-in-place.js';
import type { BlockOpeners } from './open-job.js';
import {
  BLOCK,
  BLOCK_OVERHEAD,
  blockCount,
  openBlocks,
  plainSize,
  sealInto,
  storedBlocks,
  storedRange,
  storedSize,
} from './sealed-blocks.js';

/** The objects that hold the user's data or file names: packs and manifests. */
const SEALED_PREFIXES = [PACKS, MODELS];

/**
 * The store as the engine sees it when the store is encrypted: packs and manifests (and their
 * metadata values) are encrypted on `put` and decrypted on `get`, sizes and ranges are those of
 * the plaintext, every other object passes unchanged. Each object has its own key, derived from
 * the data key and the object's name (HKDF-SHA256), so an object moved to another name does not
 * decrypt. The data key is given once the store's record has been read (`Checkpoints`), as the
 * promise of its unwrapping (scrypt takes a tenth of a second or more): listings and reads of
 * plain objects go ahead meanwhile, while every write, and every read of a sealed object, waits
 * for it and fails with its error, so that a wrong key writes nothing. A sealed object touched
 * before a data key was given fails with `Internal`.
 */
export class EncryptedStore extends StoreLayer {
  private dataKey: Promise<Buffer> | undefined;

  constructor(
    inner: ObjectStore,
    /** The threads that decrypt pull's and verify's reads; the calling thread without. */
    private readonly workers?: () => BlockOpeners,
  ) {
    super(inner);
  }

  /** The store's data key, from its record, or the promise of it. */
  useDataKey(dataKey: Buffer | Promise<Buffer>): void {
    const key = Promise.resolve(dataKey);
    key.catch(() => {}); // awaited by whatever needs it
    this.dataKey = key;
  }

  /** Settles once the data key given is there: rejects with the error of a key that does not open the store. */
  async unlocked(): Promise<void> {
    await this.dataKey;
  }

  /**
   * The caller's bytes are encrypted at once, on this thread: in place in the body's buffer when
   * the caller lends it (`inPlace`, with `writeRoom` bytes after the body), so that the put holds
   * no memory beyond the caller's and releases the body when the inner store does; else into a
   * new buffer, and the caller's body is released at once.
   */
  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    await this.unlocked();
    const { inPlace, ...passed } = options;
    if (!sealed(key)) return this.inner.put(key, body, passed);
    if (!(body instanceof Uint8Array))
      throw new StoreError('Unsupported', 'an encrypted object is put as bytes', { operation: 'put', key });
    const objectKey = await this.keyOf('object', key);
    const { metadata, size: _size, onBodyReleased, ...rest } = passed;
    const size = storedSize(body.length);
    const lent = inPlace === true && body.byteOffset + size <= body.buffer.byteLength;
    const stored = lent ? new Uint8Array(body.buffer, body.byteOffset, size) : Buffer.allocUnsafe(size);
    sealInto(objectKey, body, stored);
    if (!lent) onBodyReleased?.();
    const result = await this.inner.put(key, stored, {
      ...rest,
      size,
      ...(metadata ? { metadata: await this.sealMetadata(key, metadata) } : {}),
      ...(lent && onBodyReleased ? { onBodyReleased } : {}),
    });
    return { ...result, size: body.length };
  }

  override async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    if (!sealed(key)) return this.inner.get(key, options);
    const objectKey = await this.keyOf('object', key);
    const { range, signal } = options;
    const from = range?.offset ?? 0;
    const to = range?.length === undefined ? Number.POSITIVE_INFINITY : from + range.length;
    if (to === from) {
      const meta = await this.head(key, { signal });
      return { ...meta, body: Readable.from([]), range: { offset: Math.min(from, meta.size), length: 0 } };
    }
    const stored =
      to === Number.POSITIVE_INFINITY
        ? { offset: storedRange(from, from + 1).offset }
        : storedRange(from, to);
    // a shared `into` with room for the stored bytes (pull's and verify's reads, see `readRoom`):
    // they are read into its buffer and decrypted there in place on the file workers
    const into = options.into;
    const place =
      into?.buffer instanceof SharedArrayBuffer &&
      'length' in stored &&
      into.byteOffset + stored.length <= into.buffer.byteLength
        ? new Uint8Array(into.buffer, into.byteOffset, stored.length)
        : undefined;
    const workers = place && this.workers?.();
    const got = await this.inner.get(key, {
      signal,
      ...(stored.offset > 0 || range ? { range: stored } : {}),
      ...(workers ? { into: place } : {}),
    });
    const size = this.plainSizeOf(key, got.size);
    const start = Math.min(from, size);
    const end = Math.min(to, size);
    const first = stored.offset / (BLOCK + BLOCK_OVERHEAD);
    const read = { body: got.body, first, blocks: blockCount(size), from: start, to: end };
    const blocks =
      workers && place && into && into.length >= end - start
        ? openInPlace(
            workers,
            objectKey,
            { ...read, into: into as Uint8Array<SharedArrayBuffer>, stored: place.length },
            key,
          )
        : openBlocks(objectKey, got.body, first, read.blocks, start, end, key);
    return {
      ...got,
      size,
      ...(got.metadata ? { metadata: await this.openMetadata(key, got.metadata) } : {}),
      body: Readable.from(blocks, { objectMode: false }),
      range: { offset: start, length: end - start },
    };
  }

  /**
   * Bytes a ranged read of `length` plaintext bytes may need in `GetOptions.into`'s buffer past
   * `into` itself: its stored blocks (at most two partial ones beyond the range, 28 bytes more per
   * block) are read there and decrypted in place.
   */
  override readRoom(length: number): number {
    return storedBlocks(Math.ceil(length / BLOCK) + 1) - length;
  }

  /** Bytes a put of `length` bytes with `inPlace` may use past its body: its stored object's excess. */
  override writeRoom(length: number): number {
    return storedSize(length) - length;
  }

  override async head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    const meta = await this.inner.head(key, options);
    return sealed(key) ? this.plainMeta(meta) : meta;
  }

  override async delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    await this.unlocked();
    return this.inner.delete(key, options);
  }

  override async deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    await this.unlocked();
    return this.inner.deleteMany(keys, options);
  }

  /** A listing never fails on an object of a size no encrypted object has (gc removes such a pack): its stored size. */
  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    for await (const meta of this.inner.list(prefix, options))
      yield sealed(meta.key) ? await this.plainMeta(meta, plainSize(meta.size) ?? meta.size) : meta;
  }

  private async plainMeta(
    meta: ObjectMeta,
    size = this.plainSizeOf(meta.key, meta.size),
  ): Promise<ObjectMeta> {
    return {
      ...meta,
      size,
      ...(meta.metadata ? { metadata: await this.openMetadata(meta.key, meta.metadata) } : {}),
    };
  }

  private plainSizeOf(key: string, stored: number): number {
    const size = plainSize(stored);
    if (size === undefined)
      throw new StoreError(
        'Integrity',
        `${stored} bytes is no encrypted object's size: the object is damaged`,
        {
          operation: 'decrypt',
          key,
        },
      );
    return size;
  }

  /** Metadata values encrypted under the object's metadata key (the name as additional data), base64url. */
  private async sealMetadata(key: string, metadata: Record<string, string>): Promise<Record<string, string>> {
    const metaKey = await this.keyOf('metadata', key);
    return Object.fromEntries(
      Object.entries(metadata).map(([name, value]) => {
        const nonce = randomBytes(12);
        const cipher = createCipheriv('aes-256-gcm', metaKey, nonce).setAAD(Buffer.from(name));
        const sealedValue = Buffer.concat([
          nonce,
          cipher.update(value, 'utf8'),
          cipher.final(),
          cipher.getAuthTag(),
        ]);
        return [name, sealedValue.toString('base64url')];
      }),
    );
  }

  /** Metadata values decrypted; a value that does not decrypt is left out (readers fall back as for a missing one). */
  private async openMetadata(key: string, metadata: Record<string, string>): Promise<Record<string, string>> {
    const metaKey = await this.keyOf('metadata', key);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(metadata)) {
      const bytes = Buffer.from(value, 'base64url');
      if (bytes.length < 28) continue;
      try {
        const decipher = createDecipheriv('aes-256-gcm', metaKey, bytes.subarray(0, 12))
          .setAAD(Buffer.from(name))
          .setAuthTag(bytes.subarray(-16));
        out[name] = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()]).toString(
          'utf8',
        );
      } catch {
        // a damaged or foreign value: as if absent
      }
    }
    return out;
  }

  private async keyOf(use: 'object' | 'metadata', key: string): Promise<Buffer> {
    if (!this.dataKey)
      throw new StoreError('Internal', 'an encrypted object was reached before the store was opened', {
        operation: 'decrypt',
        key,
      });
    return Buffer.from(hkdfSync('sha256', await this.dataKey, Buffer.alloc(0), `ckpt/${use}/${key}`, 32));
  }
}

function sealed(key: string): boolean {
  return SEALED_PREFIXES.some((prefix) => key.startsWith(prefix));
}
