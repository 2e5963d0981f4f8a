import { timeoutText } from '@ckpt/core/backend';

/**
 * Fails a request that has gone silent. The SDK's own `timeout` does not reach its transport
 * (teeny-request hands it to node-fetch 3, which has no such option), so a server that accepts a
 * connection and never answers would hang a call: the backend watches each call itself. `poke()`
 * on every sign of life (a body chunk, upload progress); after `ms` without one, `expire` runs
 * with an `ETIMEDOUT` error, which reads as a retryable `Unavailable`.
 */
export class Watchdog {
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly ms: number,
    private readonly expire: (error: Error) => void,
  ) {
    this.poke();
  }

  poke(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.expire(new SilenceError(this.ms)), this.ms);
    this.timer.unref();
  }

  stop(): void {
    clearTimeout(this.timer);
  }
}

/** The error of a request silent for `ms`: an `ETIMEDOUT`, as the SDK's own network errors are. */
export class SilenceError extends Error {
  readonly code = 'ETIMEDOUT';

  constructor(readonly timeoutMs: number) {
    super(timeoutText(timeoutMs));
  }
}

/** `promise`, or an `ETIMEDOUT` error once it has taken `ms` (the request is left to the SDK). */
export function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  promise.catch(() => {});
  return new Promise<T>((resolve, reject) => {
    const watchdog = new Watchdog(ms, reject);
    promise.then(resolve, reject).finally(() => watchdog.stop());
  });
}
