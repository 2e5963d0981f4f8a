import { performance } from 'node:perf_hooks';
import { finished, pipeline, Transform } from 'node:stream';
import { redact, StoreError, type StoreErrorCode } from '../errors.js';
import type { StoreOp } from '../retry.js';
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
import { StoreLayer } from './layer.js';

/** One finished request, as reported by {@link withEvents}. */
export interface StoreEvent {
  op: StoreOp;
  /** The key; the prefix for `list`; the first key for `deleteMany`. */
  key: string;
  /**
   * Payload bytes: for `put`, the bytes stored (0 when it failed); for `get`, the body bytes
   * received as the stream flowed (also when it failed midway); otherwise 0.
   */
  bytes: number;
  /** From the call to its end; for `get`, to the end of its body stream; for `list`, of the iteration. */
  durationMs: number;
  /** Objects listed (`list`) or keys to delete (`deleteMany`). */
  count?: number;
  /**
   * Why it failed: the `StoreError` code; `Aborted` for a body destroyed before its end;
   * `Internal` for anything else. For `deleteMany`, the code of the first per-key failure.
   */
  error?: StoreErrorCode;
}

/** Receives each {@link StoreEvent}. It runs inline: keep it cheap. */
export type StoreListener = (event: StoreEvent) => void;

/** The `StoreEvent.error` for `error` (see there). */
export function errorCode(error: unknown): StoreErrorCode {
  if (StoreError.is(error)) return error.code;
  if ((error as { code?: unknown })?.code === 'ERR_STREAM_PREMATURE_CLOSE') return 'Aborted';
  return 'Internal';
}

/**
 * Reports every request to `listener` once it ends: operation, key, bytes, duration and error
 * code. A `get` is reported when its body stream ends, fails or is destroyed; its body is
 * replaced by a counting stream that forwards bytes, errors and `destroy()`. A listener that
 * throws never breaks the request (its error becomes a process warning).
 *
 * @example
 * ```ts
 * const metrics = new StoreMetrics();
 * const store = withEvents(new FsStore({ root }), metrics.listener);
 * // … later
 * console.log(metrics.format());
 * ```
 */
export class EventsLayer extends StoreLayer {
  constructor(
    inner: ObjectStore,
    private readonly listener: StoreListener,
  ) {
    super(inner);
  }

  override async put(key: string, body: PutBody, options?: PutOptions): Promise<PutResult> {
    const start = performance.now();
    try {
      const result = await this.inner.put(key, body, options);
      this.emit({ op: 'put', key, bytes: result.size, durationMs: performance.now() - start });
      return result;
    } catch (error) {
      this.emit({ op: 'put', key, bytes: 0, durationMs: performance.now() - start, error: errorCode(error) });
      throw error;
    }
  }

  override async get(key: string, options?: GetOptions): Promise<GetResult> {
    const start = performance.now();
    let result: GetResult;
    try {
      result = await this.inner.get(key, options);
    } catch (error) {
      this.emit({ op: 'get', key, bytes: 0, durationMs: performance.now() - start, error: errorCode(error) });
      throw error;
    }
    let bytes = 0;
    const counter = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        callback(null, chunk);
      },
    });
    // the pipeline forwards errors and destroy(); the request ends when the reader is done
    const body = pipeline(result.body, counter, () => {});
    const cleanup = finished(body, (error) => {
      cleanup();
      const event: StoreEvent = { op: 'get', key, bytes, durationMs: performance.now() - start };
      if (error) event.error = errorCode(error);
      this.emit(event);
    });
    return { ...result, body };
  }

  override head(key: string, options?: { signal?: AbortSignal }): Promise<ObjectMeta> {
    return this.timed('head', key, () => this.inner.head(key, options));
  }

  override delete(key: string, options?: { signal?: AbortSignal }): Promise<void> {
    return this.timed('delete', key, () => this.inner.delete(key, options));
  }

  override async deleteMany(keys: string[], options?: { signal?: AbortSignal }): Promise<DeleteManyResult> {
    const start = performance.now();
    const event: StoreEvent = {
      op: 'deleteMany',
      key: keys[0] ?? '',
      bytes: 0,
      durationMs: 0,
      count: keys.length,
    };
    try {
      const result = await this.inner.deleteMany(keys, options);
      if (result.errors[0]) event.error = errorCode(result.errors[0].error);
      return result;
    } catch (error) {
      event.error = errorCode(error);
      throw error;
    } finally {
      event.durationMs = performance.now() - start;
      this.emit(event);
    }
  }

  override async *list(prefix = '', options?: ListOptions): AsyncIterable<ObjectMeta> {
    const start = performance.now();
    const event: StoreEvent = { op: 'list', key: prefix, bytes: 0, durationMs: 0, count: 0 };
    try {
      for await (const meta of this.inner.list(prefix, options)) {
        event.count = (event.count ?? 0) + 1;
        yield meta;
      }
    } catch (error) {
      event.error = errorCode(error);
      throw error;
    } finally {
      event.durationMs = performance.now() - start;
      this.emit(event);
    }
  }

  private async timed<T>(op: StoreOp, key: string, call: () => Promise<T>): Promise<T> {
    const start = performance.now();
    const event: StoreEvent = { op, key, bytes: 0, durationMs: 0 };
    try {
      return await call();
    } catch (error) {
      event.error = errorCode(error);
      throw error;
    } finally {
      event.durationMs = performance.now() - start;
      this.emit(event);
    }
  }

  private emit(event: StoreEvent): void {
    try {
      this.listener(event);
    } catch (error) {
      process.emitWarning(
        redact(`ckpt store listener failed: ${(error as Error)?.message ?? String(error)}`),
      );
    }
  }
}

/** Wraps `store` in an {@link EventsLayer} reporting to `listener`. */
export function withEvents(store: ObjectStore, listener: StoreListener): EventsLayer {
  return new EventsLayer(store, listener);
}
