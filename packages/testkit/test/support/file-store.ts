import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  type Backend,
  type GetResult,
  type ObjectMeta,
  type PutBody,
  type PutResult,
  StoreError,
} from '@ckpt/core';
import { bodyChunks, compareKeys, readAll } from '@ckpt/core/backend';
import type { RawReader } from '../../src/index.js';

/**
 * Just enough of a streaming backend for the `streaming` group: one file per key (short keys only,
 * URI-encoded into a flat name) under `dir`, written to a temp file and renamed into place. No
 * capabilities: put modes other than overwrite and ranges never reach it.
 */
export class StreamingFileBackend implements Backend {
  readonly name: string;
  readonly capabilities = {};

  constructor(private readonly dir: string) {
    this.name = `test-files://${dir}`;
  }

  async put(key: string, body: PutBody): Promise<PutResult> {
    const temp = join(this.dir, `.tmp-${randomUUID()}`);
    try {
      await this.write(temp, body);
      await rename(temp, this.path(key));
    } finally {
      await rm(temp, { force: true });
    }
    return { version: randomUUID(), size: (await this.head(key)).size };
  }

  async get(key: string): Promise<GetResult> {
    const meta = await this.head(key);
    return { ...meta, body: await this.read(this.path(key)), range: { offset: 0, length: meta.size } };
  }

  async head(key: string): Promise<ObjectMeta> {
    const info = await stat(this.path(key)).catch(() => {
      throw new StoreError('NotFound', 'no such key', { operation: 'head', key });
    });
    return { key, size: info.size, version: String(info.mtimeMs), lastModified: info.mtime };
  }

  async *list(prefix: string): AsyncIterable<ObjectMeta> {
    const keys = (await readdir(this.dir)).filter((n) => !n.startsWith('.')).map(decodeURIComponent);
    for (const key of keys.filter((k) => k.startsWith(prefix)).sort(compareKeys)) yield this.head(key);
  }

  async delete(key: string): Promise<void> {
    await rm(this.path(key), { force: true });
  }

  protected async write(file: string, body: PutBody): Promise<void> {
    const out = await open(file, 'wx'); // created before the body can fail, so put's rm() finds it
    await pipeline(Readable.from(bodyChunks(body)), out.createWriteStream());
  }

  protected async read(file: string): Promise<Readable> {
    return createReadStream(file);
  }

  private path(key: string): string {
    return join(this.dir, encodeURIComponent(key));
  }
}

/** Holds the whole body in memory before writing it. */
export class BufferingPutBackend extends StreamingFileBackend {
  protected override async write(file: string, body: PutBody): Promise<void> {
    await writeFile(file, await readAll(bodyChunks(body), Number.POSITIVE_INFINITY));
  }
}

/** Reads the whole file into memory before returning its body. */
export class BufferingGetBackend extends StreamingFileBackend {
  protected override async read(file: string): Promise<Readable> {
    return Readable.from([await readFile(file)]);
  }
}

/** Every file under `dir`, decoded; temp files show up as themselves. */
export function fileRaw(dir: string): RawReader {
  const file = (key: string) => join(dir, encodeURIComponent(key));
  return {
    read: (key) => readFile(file(key)).catch(() => undefined),
    keys: async () =>
      (await readdir(dir)).map((n) => (n.startsWith('.') ? n : decodeURIComponent(n))).sort(compareKeys),
  };
}
