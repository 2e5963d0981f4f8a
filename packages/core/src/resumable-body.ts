import { finished, Readable } from 'node:stream';
import { StoreError } from './errors.js';
import type { Retries } from './retry.js';
import type { GetResult } from './store.js';

/** Fetches the bytes of the object from `offset` on (a ranged get of the rest). */
export type FetchRest = (offset: number, into: Uint8Array | undefined) => Promise<GetResult>;

/**
 * The body of a `get` that survives a broken connection: when the backend's body fails with a
 * retryable error, the rest is fetched again from the first byte not yet delivered (while the
 * retry budget lasts), from the same version of the object, and the reader sees one unbroken
 * stream. `into`, when given, is the caller's buffer for the whole range: a resumed read goes on
 * filling it at the position where the broken one stopped.
 */
export class ResumableBody extends Readable {
  private current: Readable;
  private received = 0;
  private resuming = false;
  /** The reader asked for bytes: until then the backend's body is not read, as a plain body would not be. */
  private started = false;
  /** A failure of the body before the reader asked for bytes, handled when it does. */
  private early: { error: unknown } | undefined;

  constructor(
    private readonly key: string,
    private readonly first: GetResult,
    private readonly retries: Retries,
    private readonly fetchRest: FetchRest,
    private readonly mapError: (error: unknown) => StoreError,
    private readonly into: Uint8Array | undefined,
  ) {
    super();
    this.current = this.attach(first.body);
  }

  override _read(): void {
    if (!this.started) {
      this.started = true;
      if (this.early) this.broken(this.early.error);
      else this.flow(this.current);
    } else if (!this.resuming) this.current.resume();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    // closed only once the backend's body has: until then it may still write into `into`
    const inner = this.current;
    finished(inner, () => callback(error));
    inner.destroy();
  }

  private flow(body: Readable): void {
    body.on('data', (chunk: Uint8Array) => {
      if (body !== this.current) return;
      this.received += chunk.byteLength;
      this.retries.progressed();
      if (!this.push(chunk)) body.pause();
    });
  }

  private attach(body: Readable): Readable {
    if (this.started) this.flow(body);
    body.once('end', () => {
      if (body !== this.current) return;
      const { length } = this.first.range;
      if (this.received === length) this.push(null);
      else
        this.broken(
          new StoreError('Unavailable', `the body ended after ${this.received} of ${length} bytes`, {
            operation: 'get',
            key: this.key,
          }),
        );
    });
    body.on('error', (error) => {
      if (body !== this.current) return;
      if (this.started) this.broken(error);
      else this.early ??= { error };
    });
    return body;
  }

  private broken(error: unknown): void {
    if (this.destroyed || this.resuming) return;
    if (this.received === this.first.range.length) {
      // every byte arrived before the connection failed: nothing to fetch again
      this.current.destroy();
      this.push(null);
      return;
    }
    this.resuming = true;
    this.current.destroy();
    void this.reconnect(this.mapError(error)).then(
      (body) => {
        this.resuming = false;
        if (this.destroyed) return void body.destroy();
        this.current = this.attach(body);
      },
      (final: unknown) => this.destroy(final as Error),
    );
  }

  /** The rest of the object, after a backoff; throws when the budget is spent or the object changed. */
  private async reconnect(error: StoreError): Promise<Readable> {
    for (let cause = error; ; ) {
      await this.retries.backoff(cause);
      if (this.destroyed) return Readable.from([]);
      try {
        const rest = await this.fetchRest(
          this.first.range.offset + this.received,
          this.into?.subarray(this.received),
        );
        if (rest.version !== this.first.version) {
          rest.body.destroy();
          throw new StoreError('Conflict', 'the object was replaced while it was being read', {
            operation: 'get',
            key: this.key,
          });
        }
        return rest.body;
      } catch (failure) {
        cause = this.mapError(failure);
      }
    }
  }
}
