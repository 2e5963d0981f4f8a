import { Readable } from 'node:stream';
import {
  type DeleteManyResult,
  type GetOptions,
  type GetResult,
  type ListOptions,
  MemoryStore,
  type ObjectMeta,
  type PutBody,
  type PutOptions,
  type PutResult,
  readAll,
  StoreError,
} from '@ckpt/core';

// Each store below breaks one promise of the contract while claiming to keep it.

/** Claims conditionalCreate but overwrites. */
export class CreateOnlyIgnoredStore extends MemoryStore {
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    return super.put(key, body, { ...options, ifNoneMatch: undefined });
  }
}

/** Claims conditionalReplace but swaps whatever the version. */
export class SwapIgnoredStore extends MemoryStore {
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    return super.put(key, body, { ...options, ifMatch: undefined });
  }
}

/** Loses the last byte of every body, and does not check the declared size. */
export class TruncatingStore extends MemoryStore {
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    async function* dropLastByte() {
      let held: Uint8Array | undefined;
      for await (const chunk of body instanceof Uint8Array ? [body] : body) {
        if (held?.length) yield held;
        held = chunk;
      }
      if (held?.length) yield held.subarray(0, -1);
    }
    return super.put(key, dropLastByte(), { ...options, size: undefined });
  }
}

/** Says it released the body before reading it: the caller's next use of the buffer is stored. */
export class EarlyReleaseStore extends MemoryStore {
  override async put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    options.onBodyReleased?.();
    return super.put(key, body, options);
  }
}

/** Serves gets from the caller's body buffer instead of its own copy: zero-copy gone wrong. */
export class BodyAliasingStore extends MemoryStore {
  private readonly bodies = new Map<string, Uint8Array>();
  override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    const result = await super.put(key, body, options);
    if (body instanceof Uint8Array) this.bodies.set(key, body);
    else this.bodies.delete(key);
    return result;
  }
  override async get(key: string, options?: GetOptions): Promise<GetResult> {
    const result = await super.get(key, options);
    const held = this.bodies.get(key);
    if (!held) return result;
    const { offset, length } = result.range;
    return { ...result, body: Readable.from([held.subarray(offset, offset + length)]) };
  }
}

/** Reads into the start of `into`'s whole buffer, not at its offset (a classic view mistake). */
export class IntoMisplacedStore extends MemoryStore {
  override async get(key: string, options: GetOptions = {}): Promise<GetResult> {
    const result = await super.get(key, options);
    const { into } = options;
    if (!into || into.length < result.range.length) return result;
    const whole = new Uint8Array(into.buffer);
    whole.set(await readAll(result.body, into.length, key));
    return { ...result, body: Readable.from([Buffer.from(whole.buffer, 0, result.range.length)]) };
  }
}

/** Lists in JavaScript's default (UTF-16) order instead of byte order. */
export class Utf16ListStore extends MemoryStore {
  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    const all: ObjectMeta[] = [];
    for await (const meta of super.list(prefix, options)) all.push(meta);
    yield* all.sort((a, b) => (a.key < b.key ? -1 : 1));
  }
}

/** "Deletes" by hiding the key from get/head/list: the bytes stay in the backend. */
export class HidingDeleteStore extends MemoryStore {
  private readonly hidden = new Set<string>();
  override put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    this.hidden.delete(key);
    return super.put(key, body, options);
  }
  override get(key: string, options?: GetOptions): Promise<GetResult> {
    return this.hidden.has(key) ? this.notFound('get', key) : super.get(key, options);
  }
  override head(key: string): Promise<ObjectMeta> {
    return this.hidden.has(key) ? this.notFound('head', key) : super.head(key);
  }
  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    for await (const meta of super.list(prefix, options)) if (!this.hidden.has(meta.key)) yield meta;
  }
  override async delete(key: string): Promise<void> {
    this.hidden.add(key);
  }
  private async notFound(operation: string, key: string): Promise<never> {
    throw new StoreError('NotFound', 'no such key', { operation, key });
  }
}

/** Throws plain Errors: callers cannot tell NotFound from anything else. */
export class CodelessErrorStore extends MemoryStore {
  override head(key: string): Promise<ObjectMeta> {
    return super.head(key).catch((error: Error) => Promise.reject(new Error(error.message)));
  }
}

/** Ignores the caller's AbortSignal. */
export class AbortIgnoredStore extends MemoryStore {
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    return super.put(key, body, { ...options, signal: undefined });
  }
}

/** Ignores the declared size: a short or long body is stored as it comes. */
export class SizeIgnoredStore extends MemoryStore {
  override put(key: string, body: PutBody, options: PutOptions = {}): Promise<PutResult> {
    return super.put(key, body, { ...options, size: undefined });
  }
}

/** Claims rangedRead but always returns the whole object. */
export class RangeIgnoredStore extends MemoryStore {
  override get(key: string, options: GetOptions = {}): Promise<GetResult> {
    return super.get(key, { ...options, range: undefined });
  }
}

/** Reports missing keys as deleteMany errors. */
export class MissingKeyErrorStore extends MemoryStore {
  override async deleteMany(keys: string[]): Promise<DeleteManyResult> {
    const errors: DeleteManyResult['errors'] = [];
    for (const key of keys) {
      await this.head(key).catch((error: Error) => errors.push({ key, error }));
      await this.delete(key);
    }
    return { errors };
  }
}
