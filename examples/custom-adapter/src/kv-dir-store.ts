import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  BaseStore,
  type ByteRange,
  bodyChunks,
  type Capabilities,
  compareKeys,
  DEFAULT_CAPABILITIES,
  type GetOptions,
  type GetResult,
  type ListOptions,
  normalizePrefix,
  type ObjectMeta,
  type PutBody,
  type PutOptions,
  type PutResult,
  StoreError,
  throwIfAborted,
  validateKey,
} from '@ckpt/core';

/** Object files are named by the sha256 of their key; anything else in the directory is ignored. */
const OBJECT_FILE = /^[0-9a-f]{64}$/;

/**
 * An ObjectStore that keeps each object as one file in a flat directory:
 *
 * ```text
 * <dir>/<sha256(key) in hex>    holds    <key in UTF-8> "\n" <the object's bytes>
 * ```
 *
 * Names are hashes because a key may be 1024 bytes long and a file name only 255; the key is the
 * file's first line (keys never hold a newline), so `list` can recover it. A put streams into a
 * temporary file and renames it into place, so readers see the old object or the new one, never a
 * part; a create-only put links instead of renaming, which fails when the name is taken.
 */
export class KvDirStore extends BaseStore {
  readonly name: string;
  override readonly capabilities: Readonly<Capabilities> = {
    ...DEFAULT_CAPABILITIES,
    conditionalCreate: true, // link() fails when the name exists: an atomic create-only put
    rangedRead: true,
    keyIsAlsoPrefix: true, // flat hashed names: `a` and `a/b` never collide
    maxObjectSize: 2 ** 40,
  };

  constructor(readonly dir: string) {
    super();
    this.name = `kv://${dir}`;
  }

  /** Creates `dir` when missing and opens a store on it. */
  static async open(dir: string): Promise<KvDirStore> {
    await mkdir(dir, { recursive: true });
    return new KvDirStore(dir);
  }

  async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    validateKey(key, 'put');
    this.checkPutOptions(key, options);
    const file = this.file(key);
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      throwIfAborted(options.signal, 'put', key);
      // open first: a body failing early must not leave the file to be created after our rm()
      const out = await open(temp, 'wx');
      await pipeline(withHeader(key, body), out.createWriteStream(), { signal: options.signal });
      const info = await stat(temp, { bigint: true });
      const size = Number(info.size) - headerBytes(key);
      if (options.size !== undefined && size !== options.size) {
        throw new StoreError('Integrity', `body has ${size} bytes, expected ${options.size}`, {
          operation: 'put',
          key,
        });
      }
      throwIfAborted(options.signal, 'put', key);
      await (options.ifNoneMatch ? link(temp, file) : rename(temp, file));
      return { version: `${info.ino}-${info.mtimeNs}`, size };
    } catch (error) {
      throw storeError(error, 'put', key, options.signal);
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    validateKey(key, 'get');
    throwIfAborted(options.signal, 'get', key);
    // one open handle: a concurrent put (a rename) cannot change what we read
    const handle = await open(this.file(key)).catch((error) => Promise.reject(storeError(error, 'get', key)));
    try {
      const meta = await this.meta(key, handle);
      const range = clampRange(options.range, meta.size, key);
      const start = headerBytes(key) + range.offset;
      if (range.length === 0) await handle.close();
      const body =
        range.length === 0
          ? Readable.from([])
          : handle.createReadStream({ start, end: start + range.length - 1 });
      return { ...meta, body, range };
    } catch (error) {
      await handle.close();
      throw storeError(error, 'get', key);
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    validateKey(key, 'head');
    const handle = await open(this.file(key)).catch((error) =>
      Promise.reject(storeError(error, 'head', key)),
    );
    try {
      return await this.meta(key, handle);
    } finally {
      await handle.close();
    }
  }

  async *list(prefix = '', options: ListOptions = {}): AsyncIterable<ObjectMeta> {
    const start = normalizePrefix(prefix, 'list');
    throwIfAborted(options.signal, 'list', prefix);
    const keys: string[] = [];
    for (const name of await readdir(this.dir)) {
      const key = OBJECT_FILE.test(name) ? await readKey(join(this.dir, name)) : undefined;
      const after =
        options.startAfter === undefined || (key !== undefined && compareKeys(key, options.startAfter) > 0);
      if (key?.startsWith(start) && after) keys.push(key);
    }
    for (const key of keys.sort(compareKeys)) {
      throwIfAborted(options.signal, 'list', prefix);
      const meta = await this.head(key).catch((error) =>
        StoreError.is(error, 'NotFound') ? undefined : Promise.reject(error),
      );
      if (meta) yield meta; // undefined: deleted since readdir
    }
  }

  async delete(key: string): Promise<void> {
    validateKey(key, 'delete');
    await rm(this.file(key), { force: true }).catch((error) =>
      Promise.reject(storeError(error, 'delete', key)),
    );
  }

  private file(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex'));
  }

  private async meta(key: string, handle: FileHandle): Promise<ObjectMeta> {
    const info = await handle.stat({ bigint: true });
    const size = Number(info.size) - headerBytes(key);
    return {
      key,
      size,
      version: `${info.ino}-${info.mtimeNs}`,
      lastModified: new Date(Number(info.mtimeMs)),
    };
  }
}

/** The part of a `size`-byte object that `range` asks for; past the end yields what exists. */
function clampRange(
  range: ByteRange | undefined,
  size: number,
  key: string,
): { offset: number; length: number } {
  const { offset = 0, length = size } = range ?? {};
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new StoreError('InvalidArgument', 'range offset and length must be integers >= 0', {
      operation: 'get',
      key,
    });
  }
  const start = Math.min(offset, size);
  return { offset: start, length: Math.min(length, size - start) };
}

/** The file's bytes: the key's line, then the body. */
async function* withHeader(key: string, body: PutBody): AsyncIterable<Uint8Array> {
  yield Buffer.from(`${key}\n`);
  yield* bodyChunks(body);
}

function headerBytes(key: string): number {
  return Buffer.byteLength(key) + 1;
}

/** The key on the first line of an object file, or undefined when it vanished meanwhile. */
async function readKey(file: string): Promise<string | undefined> {
  const handle = await open(file).catch(() => undefined);
  if (!handle) return undefined;
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1025), 0, 1025, 0);
    const end = buffer.subarray(0, bytesRead).indexOf(10);
    return end < 0 ? undefined : buffer.toString('utf8', 0, end);
  } finally {
    await handle.close();
  }
}

/** A filesystem or stream error as a StoreError naming the operation and the key. */
function storeError(error: unknown, operation: string, key: string, signal?: AbortSignal): StoreError {
  if (StoreError.is(error)) return error;
  const options = { operation, key, cause: error };
  if (signal?.aborted) return new StoreError('Aborted', 'the operation was aborted', options);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' && operation !== 'put') return new StoreError('NotFound', 'no such key', options);
  if (code === 'EEXIST') return new StoreError('AlreadyExists', 'the key already exists', options);
  if (code === 'EACCES' || code === 'EPERM') return new StoreError('PermissionDenied', `${code}`, options);
  return new StoreError('Internal', error instanceof Error ? error.message : String(error), options);
}
