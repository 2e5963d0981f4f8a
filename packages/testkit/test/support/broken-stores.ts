import { Readable } from 'node:stream';
import {
  type BackendGetOptions,
  type BackendPutOptions,
  type DeleteManyResult,
  type GetResult,
  type ObjectMeta,
  type PutBody,
  type PutResult,
  StoreError,
} from '@ckpt/core';
import { bodyChunks, compareKeys, readAll, throwIfAborted } from '@ckpt/core/backend';
import { MemoryBackend } from '@ckpt/core/testing';

// Each backend below breaks one promise of the contract while claiming to keep it. The suite runs
// them behind the core's store, as adapters are run: some breaks the store catches or heals itself.

type ListOptions = { startAfter?: string; signal?: AbortSignal };

/** Claims conditionalCreate but overwrites. */
export class CreateOnlyIgnoredBackend extends MemoryBackend {
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    return super.put(key, body, { ...options, mode: options.mode === 'create' ? 'overwrite' : options.mode });
  }
}

/** Claims conditionalReplace but swaps whatever the version. */
export class SwapIgnoredBackend extends MemoryBackend {
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const mode = typeof options.mode === 'object' ? 'overwrite' : options.mode;
    return super.put(key, body, { ...options, mode });
  }
}

/** Loses the last byte of every body, and does not check the declared size. */
export class TruncatingBackend extends MemoryBackend {
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    async function* dropLastByte() {
      let held: Uint8Array | undefined;
      for await (const chunk of bodyChunks(body)) {
        if (held?.length) yield held;
        held = chunk;
      }
      if (held?.length) yield held.subarray(0, -1);
    }
    return super.put(key, dropLastByte(), { ...options, size: undefined });
  }
}

/** Says it released the body before reading it: the caller's next use of the buffer is stored. */
export class EarlyReleaseBackend extends MemoryBackend {
  override async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    options.onBodyReleased?.();
    return super.put(key, body, options);
  }
}

/** Serves gets from the caller's body buffer instead of its own copy: zero-copy gone wrong. */
export class BodyAliasingBackend extends MemoryBackend {
  private readonly bodies = new Map<string, Uint8Array>();
  override async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const result = await super.put(key, body, options);
    if (body instanceof Uint8Array) this.bodies.set(key, body);
    else this.bodies.delete(key);
    return result;
  }
  override async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const result = await super.get(key, options);
    const held = this.bodies.get(key);
    if (!held) return result;
    const { offset, length } = result.range;
    return { ...result, body: Readable.from([held.subarray(offset, offset + length)]) };
  }
}

/** Reads into the start of `into`'s whole buffer, not at its offset (a classic view mistake). */
export class IntoMisplacedBackend extends MemoryBackend {
  override async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const result = await super.get(key, options);
    const { into } = options;
    if (!into || into.length < result.range.length) return result;
    const whole = new Uint8Array(into.buffer);
    whole.set(await readAll(result.body, into.length, key));
    return { ...result, body: Readable.from([Buffer.from(whole.buffer, 0, result.range.length)]) };
  }
}

/** Lists in JavaScript's default (UTF-16) order instead of byte order. */
export class Utf16ListBackend extends MemoryBackend {
  override async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectMeta> {
    const all: ObjectMeta[] = [];
    for await (const meta of super.list(prefix, options)) all.push(meta);
    yield* all.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

/** "Deletes" by hiding the key from get/head/list: the bytes stay in the backend. */
export class HidingDeleteBackend extends MemoryBackend {
  private readonly hidden = new Set<string>();
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    this.hidden.delete(key);
    return super.put(key, body, options);
  }
  override get(key: string, options: BackendGetOptions): Promise<GetResult> {
    return this.hidden.has(key) ? notFound('get', key) : super.get(key, options);
  }
  override head(key: string): Promise<ObjectMeta> {
    return this.hidden.has(key) ? notFound('head', key) : super.head(key);
  }
  override async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectMeta> {
    for await (const meta of super.list(prefix, options)) if (!this.hidden.has(meta.key)) yield meta;
  }
  override async delete(key: string): Promise<void> {
    this.hidden.add(key);
  }
}

/** Throws a plain Error for a missing key: callers cannot tell NotFound from anything else. */
export class CodelessErrorBackend extends MemoryBackend {
  override head(key: string): Promise<ObjectMeta> {
    return super.head(key).catch(() => Promise.reject(new Error('object not found')));
  }
}

/** Ignores the caller's AbortSignal. */
export class AbortIgnoredBackend extends MemoryBackend {
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    return super.put(key, body, { ...options, signal: undefined });
  }
}

/** Ignores the declared size: a short or long body is stored as it comes. */
export class SizeIgnoredBackend extends MemoryBackend {
  override put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    return super.put(key, body, { ...options, size: undefined });
  }
}

/** Claims rangedRead but always returns the whole object. */
export class RangeIgnoredBackend extends MemoryBackend {
  override get(key: string, options: BackendGetOptions): Promise<GetResult> {
    return super.get(key, { ...options, range: undefined });
  }
}

/** Deletes in batches, and reports the missing keys of a batch as errors. */
export class MissingKeyErrorBackend extends MemoryBackend {
  async deleteBatch(keys: string[]): Promise<DeleteManyResult> {
    const errors: DeleteManyResult['errors'] = [];
    for (const key of keys) {
      await this.head(key).catch((error: Error) => errors.push({ key, error }));
      await this.delete(key);
    }
    return { errors };
  }
}

/** Fails the delete of a missing key with NotFound. */
export class MissingDeleteFailsBackend extends MemoryBackend {
  override async delete(key: string): Promise<void> {
    await this.head(key);
    await super.delete(key);
  }
}

/** Writes in place: a put that fails or is aborted midway leaves the bytes that arrived under the key. */
export class PartialWriteBackend extends MemoryBackend {
  override async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const parts: Buffer[] = [];
    try {
      for await (const chunk of bodyChunks(body)) {
        throwIfAborted(options.signal, 'put', key);
        parts.push(Buffer.from(chunk));
      }
    } catch (error) {
      await super.put(key, Buffer.concat(parts), { mode: 'overwrite' });
      throw error;
    }
    return super.put(key, Buffer.concat(parts), options);
  }
}

/** Refuses a range that starts at or past the end (an HTTP 416 read as InvalidArgument). */
export class PastEndRefusedBackend extends MemoryBackend {
  override async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const { size } = await this.head(key);
    if (options.range && options.range.offset >= size) {
      throw new StoreError('InvalidArgument', 'the range is not satisfiable', { operation: 'get', key });
    }
    return super.get(key, options);
  }
}

/** Ends every body cleanly after 64 KiB (a proxy that cuts long responses), its range still claiming all. */
export class ShortBodyBackend extends MemoryBackend {
  override async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const result = await super.get(key, options);
    async function* first64KiB() {
      let left = 64 * 1024;
      for await (const chunk of result.body as AsyncIterable<Buffer>) {
        if (left <= 0) break;
        yield chunk.subarray(0, left);
        left -= chunk.length;
      }
    }
    return { ...result, body: Readable.from(first64KiB()) };
  }
}

/** Loses the first key of every page of 1000 after the first (a paging off-by-one): still in order. */
export class PageGapBackend extends MemoryBackend {
  override async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectMeta> {
    let n = 0;
    for await (const meta of super.list(prefix, options)) if (n++ % 1000 !== 0 || n === 1) yield meta;
  }
}

/** Starts a listing at `startAfter` itself instead of after it. */
export class InclusiveStartAfterBackend extends MemoryBackend {
  override async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectMeta> {
    const { startAfter } = options;
    for await (const meta of super.list(prefix, {})) {
      if (startAfter === undefined || compareKeys(meta.key, startAfter) >= 0) yield meta;
    }
  }
}

/** Lists what the store held at its first listing (an eventually consistent index): no read-after-write. */
export class StaleListBackend extends MemoryBackend {
  private snapshot: ObjectMeta[] | undefined;
  override async *list(prefix: string, options: ListOptions): AsyncIterable<ObjectMeta> {
    if (!this.snapshot) {
      this.snapshot = [];
      for await (const meta of super.list('', {})) this.snapshot.push(meta);
    }
    const { startAfter } = options;
    for (const meta of this.snapshot) {
      const after = startAfter === undefined || compareKeys(meta.key, startAfter) > 0;
      if (meta.key.startsWith(prefix) && after) yield meta;
    }
  }
}

/** Keeps an object's metadata when an overwrite brings none (copy-style update semantics). */
export class MetadataStickyBackend extends MemoryBackend {
  override async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const old = await this.head(key).then(
      (meta) => meta.metadata,
      () => undefined,
    );
    return super.put(key, body, old && !options.metadata ? { ...options, metadata: old } : options);
  }
}

/**
 * Fails the first head of each key with a retryable `Unavailable`. Not a broken promise (a real
 * backend has such hiccups): it shows that the suite's store does not retry.
 */
export class FlakyHeadBackend extends MemoryBackend {
  private readonly seen = new Set<string>();
  override async head(key: string): Promise<ObjectMeta> {
    if (this.seen.has(key)) return super.head(key);
    this.seen.add(key);
    throw new StoreError('Unavailable', 'connection reset', { operation: 'head', key });
  }
}

async function notFound(operation: string, key: string): Promise<never> {
  throw new StoreError('NotFound', 'no such key', { operation, key });
}
