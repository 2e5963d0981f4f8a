import { createHash, randomUUID } from 'node:crypto';
import { type FileHandle, link, open, readdir, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Backend,
  type BackendGetOptions,
  type BackendPutOptions,
  type Capabilities,
  type GetResult,
  type ObjectMeta,
  type PutBody,
  type PutResult,
  StoreError,
} from '@ckpt/core';
import { bodyChunks, compareKeys } from '@ckpt/core/backend';

/** Object files are named by the sha256 of their key; anything else in the directory is ignored. */
const OBJECT_FILE = /^[0-9a-f]{64}$/;

/**
 * A backend that keeps each object as one file in a flat directory:
 *
 * ```text
 * <dir>/<sha256(key) in hex>    holds    <key in UTF-8> "\n" <the object's bytes>
 * ```
 *
 * Names are hashes because a key may be 1024 bytes long and a file name only 255; the key is the
 * file's first line (keys never hold a newline), so `list` can recover it. A put streams into a
 * temporary file and renames it into place, so readers see the old object or the new one, never a
 * part; a create-only put links instead of renaming, which fails when the name is taken.
 *
 * What it does not do, because the store around it does: validate keys, ranges and options,
 * check the signal before each call, turn errors into `StoreError`s (an `ENOENT` becomes
 * `NotFound` by the store's errno map), retry, batch deletes.
 */
export class KvDirBackend implements Backend {
  readonly name: string;
  readonly capabilities: Partial<Capabilities> = {
    conditionalCreate: true, // link() fails when the name exists: an atomic create-only put
    rangedRead: true,
    keyIsAlsoPrefix: true, // flat hashed names: `a` and `a/b` never collide
    maxObjectSize: 2 ** 40,
  };

  constructor(readonly dir: string) {
    this.name = `kv://${dir}`;
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const file = this.file(key);
    const temp = `${file}.${randomUUID()}.tmp`;
    try {
      // open first: a body failing early must not leave the file to be created after our rm()
      const out = await open(temp, 'wx');
      await pipeline(withHeader(key, body), out.createWriteStream(), { signal: options.signal });
      const meta = await this.metaOf(key, temp);
      if (options.size !== undefined && meta.size !== options.size) {
        throw new StoreError('Integrity', `body has ${meta.size} bytes, expected ${options.size}`);
      }
      options.signal?.throwIfAborted();
      await (options.mode === 'create' ? link(temp, file) : rename(temp, file));
      return { version: meta.version, size: meta.size };
    } finally {
      await rm(temp, { force: true });
    }
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    // one open handle: a concurrent put (a rename) cannot change what we read
    const handle = await open(this.file(key));
    try {
      const meta = await this.meta(key, handle);
      const offset = Math.min(options.range?.offset ?? 0, meta.size);
      const length = Math.min(options.range?.length ?? meta.size, meta.size - offset);
      const start = headerBytes(key) + offset;
      const body =
        length === 0 ? Readable.from([]) : handle.createReadStream({ start, end: start + length - 1 });
      if (length === 0) await handle.close();
      return { ...meta, body, range: { offset, length } };
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  head(key: string): Promise<ObjectMeta> {
    return this.metaOf(key, this.file(key));
  }

  async *list(prefix: string, options: { startAfter?: string }): AsyncIterable<ObjectMeta> {
    const { startAfter } = options;
    const keys: string[] = [];
    for (const name of await readdir(this.dir)) {
      const key = OBJECT_FILE.test(name) ? await readKey(join(this.dir, name)) : undefined;
      if (key?.startsWith(prefix) && (startAfter === undefined || compareKeys(key, startAfter) > 0))
        keys.push(key);
    }
    for (const key of keys.sort(compareKeys)) {
      const meta = await this.head(key).catch(() => undefined);
      if (meta) yield meta; // undefined: deleted since readdir
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.file(key), { force: true });
  }

  private file(key: string): string {
    return join(this.dir, createHash('sha256').update(key).digest('hex'));
  }

  private async metaOf(key: string, file: string): Promise<ObjectMeta> {
    const handle = await open(file);
    try {
      return await this.meta(key, handle);
    } finally {
      await handle.close();
    }
  }

  private async meta(key: string, handle: FileHandle): Promise<ObjectMeta> {
    const info = await handle.stat({ bigint: true });
    return {
      key,
      size: Number(info.size) - headerBytes(key),
      version: `${info.ino}-${info.mtimeNs}`,
      lastModified: new Date(Number(info.mtimeMs)),
    };
  }
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
