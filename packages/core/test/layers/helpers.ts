import { finished, Readable } from 'node:stream';
import { StoreError, type StoreErrorCode } from '../../src/errors.js';
import { STORE_OPS, StoreLayer, type StoreOp } from '../../src/layers/layer.js';
import { MemoryStore } from '../../src/memory-store.js';
import type {
  GetOptions,
  GetResult,
  ListOptions,
  ObjectMeta,
  PutBody,
  PutOptions,
  PutResult,
} from '../../src/store.js';

export const unavailable = (operation = 'test') =>
  new StoreError('Unavailable', 'flaky backend', { operation });
export const storeError = (code: StoreErrorCode) => new StoreError(code, 'scripted', { operation: 'test' });

/** Reads a body to its end as a Buffer. */
export async function readBody(body: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of body) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

/** Reads a body until it ends or fails; returns the bytes seen and the error, if any. */
export async function drain(body: Readable): Promise<{ bytes: number; error?: unknown }> {
  let bytes = 0;
  try {
    for await (const chunk of body) bytes += (chunk as Buffer).length;
    return { bytes };
  } catch (error) {
    return { bytes, error };
  }
}

/** `n` bytes of a repeating pattern. */
export const bytesOf = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => i % 251));

/** A body of `n` bytes streamed in chunks of `chunk` bytes. */
export const streamOf = (n: number, chunk = 1000) =>
  Readable.from(
    (function* () {
      for (let at = 0; at < n; at += chunk) yield bytesOf(Math.min(chunk, n - at));
    })(),
  );

interface ListFailure {
  /** Items yielded before the error. */
  after: number;
  error: Error;
}

/**
 * A MemoryStore whose next calls fail as scripted, counting calls. `failNext(op, …errors)` makes
 * the next calls of `op` throw those errors in turn; `failList` makes the next listings fail
 * after `after` items.
 */
export class ScriptedStore extends StoreLayer {
  readonly calls = Object.fromEntries(STORE_OPS.map((op) => [op, 0])) as Record<StoreOp, number>;
  readonly listOptions: (ListOptions | undefined)[] = [];
  readonly memory: MemoryStore;
  private readonly script = new Map<StoreOp, Error[]>();
  private readonly listScript: ListFailure[] = [];
  /** Per-key errors the next deleteMany calls report instead of deleting those keys. */
  readonly deleteFailures: Map<string, Error>[] = [];

  constructor(memory = new MemoryStore()) {
    super(memory);
    this.memory = memory;
  }

  failNext(op: StoreOp, ...errors: Error[]): this {
    this.script.set(op, [...(this.script.get(op) ?? []), ...errors]);
    return this;
  }

  failList(...failures: ListFailure[]): this {
    this.listScript.push(...failures);
    return this;
  }

  private step(op: StoreOp): void {
    this.calls[op] += 1;
    const error = this.script.get(op)?.shift();
    if (error) throw error;
  }

  override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    this.step('put');
    return super.put(key, body, options);
  }

  override async get(key: string, options?: GetOptions): Promise<GetResult> {
    this.step('get');
    return super.get(key, options);
  }

  override async head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    this.step('head');
    return super.head(key, options);
  }

  override async delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    this.step('delete');
    return super.delete(key, options);
  }

  override async deleteMany(keys: string[], options?: { signal?: AbortSignal }) {
    this.step('deleteMany');
    const failures = this.deleteFailures.shift() ?? new Map<string, Error>();
    const result = await super.deleteMany(
      keys.filter((k) => !failures.has(k)),
      options,
    );
    const scripted = keys
      .filter((k) => failures.has(k))
      .map((key) => ({ key, error: failures.get(key) as Error }));
    return { errors: [...result.errors, ...scripted] };
  }

  override async *list(prefix?: string, options?: ListOptions): AsyncIterable<ObjectMeta> {
    this.step('list');
    this.listOptions.push(options);
    const failure = this.listScript.shift();
    let yielded = 0;
    for await (const meta of super.list(prefix, options)) {
      if (failure && yielded === failure.after) throw failure.error;
      yielded += 1;
      yield meta;
    }
    if (failure) throw failure.error;
  }
}

/**
 * A MemoryStore whose requests each take `delayMs` and which records how many run at once
 * (a `get` runs until its body ends, fails or is destroyed).
 */
export class GaugedStore extends StoreLayer {
  inFlight = 0;
  maxInFlight = 0;
  started = 0;

  constructor(
    readonly memory = new MemoryStore(),
    private readonly delayMs = 2,
  ) {
    super(memory);
  }

  private async enter<T>(call: () => Promise<T>, holdUntil?: (value: T) => Readable): Promise<T> {
    this.started += 1;
    this.inFlight += 1;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    let release = true;
    try {
      await new Promise((resolve) => setTimeout(resolve, this.delayMs));
      const value = await call();
      if (holdUntil) {
        release = false;
        finished(holdUntil(value), () => {
          this.inFlight -= 1;
        });
      }
      return value;
    } finally {
      if (release) this.inFlight -= 1;
    }
  }

  override put(key: string, body: PutBody, options?: PutOptions) {
    return this.enter(() => super.put(key, body, options));
  }

  override get(key: string, options?: GetOptions) {
    return this.enter(
      () => super.get(key, options),
      (result) => result.body,
    );
  }

  override head(key: string, options?: { signal?: AbortSignal }) {
    return this.enter(() => super.head(key, options));
  }

  override delete(key: string, options?: { signal?: AbortSignal }) {
    return this.enter(() => super.delete(key, options));
  }
}

/** A Sleep that returns at once and records the delays asked for (it still honours aborts). */
export function recordingSleep() {
  const delays: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    delays.push(ms);
    if (signal?.aborted) throw new StoreError('Aborted', 'aborted', { operation: 'sleep' });
  };
  return { delays, sleep };
}
