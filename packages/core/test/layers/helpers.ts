import { Readable } from 'node:stream';
import type { Backend, BackendGetOptions, BackendPutOptions } from '../../src/backend.js';
import { BackendStore } from '../../src/backend-store.js';
import { readAll } from '../../src/body.js';
import { StoreError, type StoreErrorCode } from '../../src/errors.js';
import { STORE_OPS } from '../../src/layers/layer.js';
import { mulberry32 } from '../../src/layers/random.js';
import { MemoryBackend } from '../../src/memory-store.js';
import type { RetryEvent, RetryOptions, StoreOp } from '../../src/retry.js';
import type {
  Capabilities,
  DeleteManyResult,
  GetResult,
  ObjectMeta,
  PutBody,
  PutResult,
} from '../../src/store.js';

export const unavailable = (operation = 'test') =>
  new StoreError('Unavailable', 'flaky backend', { operation });
export const storeError = (code: StoreErrorCode) => new StoreError(code, 'scripted', { operation: 'test' });
/** An error as node's `fs` or `net` throws it. */
export const errnoFailure = (code: string) => Object.assign(new Error(`${code}: scripted`), { code });

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

/** The keys a listing yields, or the error it fails with after them. */
export async function listKeys(
  listing: AsyncIterable<ObjectMeta>,
): Promise<{ keys: string[]; error?: unknown }> {
  const keys: string[] = [];
  try {
    for await (const meta of listing) keys.push(meta.key);
    return { keys };
  } catch (error) {
    return { keys, error };
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
  error: unknown;
}

/** How the body of a scripted `get` breaks. */
export interface BodyCut {
  /** Bytes delivered before it breaks. */
  after: number;
  /** What it fails with; without one it just ends early (a short read). */
  error?: unknown;
}

/** Bytes per chunk of a scripted `get` body. */
const CHUNK = 1000;

/**
 * A Backend over a {@link MemoryBackend} whose next calls fail as scripted, counting calls and
 * recording what they were asked. `failNext(op, …errors)` makes the next calls of `op` throw those
 * errors in turn (`deleteMany` is the backend's `deleteBatch`); `failList` makes the next listings
 * fail after `after` items; `cutNext` makes the next `get` bodies break after `after` bytes.
 * Bodies come in chunks of 1000 bytes, written into `into` when it holds the range.
 */
export class ScriptedBackend implements Backend {
  readonly memory: MemoryBackend;
  readonly capabilities: Partial<Capabilities>;
  readonly calls = Object.fromEntries(STORE_OPS.map((op) => [op, 0])) as Record<StoreOp, number>;
  readonly putOptions: BackendPutOptions[] = [];
  readonly getOptions: BackendGetOptions[] = [];
  readonly listOptions: { startAfter?: string }[] = [];
  /** The keys of each `deleteBatch` call. */
  readonly batches: string[][] = [];
  /** Per-key errors the next `deleteBatch` calls report instead of deleting those keys. */
  readonly deleteFailures: Map<string, unknown>[] = [];
  /** Runs at the start of each `put`, e.g. to call `onBodyReleased`. */
  onPut: ((options: BackendPutOptions) => void) | undefined;
  /** What `close` throws, if anything. */
  closeError: unknown;
  closes = 0;
  deleteBatch?: (keys: string[], options: { signal?: AbortSignal }) => Promise<DeleteManyResult>;
  toStoreError?: Backend['toStoreError'];
  private readonly script = new Map<StoreOp, unknown[]>();
  private readonly listScript: ListFailure[] = [];
  private readonly cuts: BodyCut[] = [];

  constructor(options: { capabilities?: Partial<Capabilities>; batch?: boolean } = {}) {
    this.memory = new MemoryBackend('scripted://');
    this.capabilities = { ...this.memory.capabilities, ...options.capabilities };
    if (options.batch !== false) this.deleteBatch = (keys) => this.batch(keys);
  }

  get name(): string {
    return this.memory.name;
  }

  failNext(op: StoreOp, ...errors: unknown[]): this {
    this.script.set(op, [...(this.script.get(op) ?? []), ...errors]);
    return this;
  }

  failList(...failures: ListFailure[]): this {
    this.listScript.push(...failures);
    return this;
  }

  cutNext(...cuts: BodyCut[]): this {
    this.cuts.push(...cuts);
    return this;
  }

  /** Stores `bytes` under `key` without going through the script. */
  seed(key: string, bytes: Uint8Array): Promise<PutResult> {
    return this.memory.put(key, bytes, { mode: 'overwrite' });
  }

  /** The keys stored, in order. */
  async keys(): Promise<string[]> {
    return (await listKeys(this.memory.list('', {}))).keys;
  }

  private step(op: StoreOp): void {
    this.calls[op] += 1;
    const script = this.script.get(op);
    if (script?.length) throw script.shift();
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    this.putOptions.push(options);
    this.onPut?.(options);
    this.step('put');
    return this.memory.put(key, body, options);
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    this.getOptions.push(options);
    this.step('get');
    const result = await this.memory.get(key, options);
    const bytes = await readAll(result.body);
    const { into } = options;
    const target = into && into.byteLength >= bytes.length ? into : undefined;
    const cut = this.cuts.shift();
    const end = cut ? Math.min(cut.after, bytes.length) : bytes.length;
    async function* chunks() {
      for (let at = 0; at < end; at += CHUNK) {
        const piece = bytes.subarray(at, Math.min(end, at + CHUNK));
        if (!target) yield Buffer.from(piece);
        else {
          target.set(piece, at);
          yield Buffer.from(target.buffer, target.byteOffset + at, piece.length);
        }
      }
      if (cut?.error !== undefined) throw cut.error;
    }
    return { ...result, body: Readable.from(chunks(), { objectMode: false }) };
  }

  async head(key: string): Promise<ObjectMeta> {
    this.step('head');
    return this.memory.head(key);
  }

  async *list(prefix: string, options: { startAfter?: string }): AsyncIterable<ObjectMeta> {
    this.listOptions.push({ ...options });
    this.step('list');
    const failure = this.listScript.shift();
    let yielded = 0;
    for await (const meta of this.memory.list(prefix, options)) {
      if (failure && yielded === failure.after) throw failure.error;
      yielded += 1;
      yield meta;
    }
    if (failure) throw failure.error;
  }

  async delete(key: string): Promise<void> {
    this.step('delete');
    return this.memory.delete(key);
  }

  async close(): Promise<void> {
    this.closes += 1;
    if (this.closeError !== undefined) throw this.closeError;
  }

  private async batch(keys: string[]): Promise<DeleteManyResult> {
    this.batches.push([...keys]);
    this.step('deleteMany');
    const failures = this.deleteFailures.shift() ?? new Map<string, unknown>();
    const errors: DeleteManyResult['errors'] = [];
    for (const key of keys) {
      if (failures.has(key)) errors.push({ key, error: failures.get(key) as Error });
      else await this.memory.delete(key);
    }
    return { errors };
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

/**
 * A store over `backend` whose retries wait for nothing (recording the delays) with seeded
 * jitter, reporting each retry to `events`.
 */
export function scriptedStore(retry: RetryOptions = {}, backend = new ScriptedBackend()) {
  const { delays, sleep } = recordingSleep();
  const events: RetryEvent[] = [];
  const store = new BackendStore(backend, {
    retry: { sleep, random: mulberry32(1), onRetry: (e) => events.push(e), ...retry },
  });
  return { backend, store, delays, events };
}
