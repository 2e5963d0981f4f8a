import { Readable, Transform } from 'node:stream';
import { StoreError } from '@ckpt/core';
import { abortError } from '@ckpt/core/backend';
import { type ErrorContext, toStoreError } from './errors.js';

/**
 * Wraps a GET response body of `available` bytes (its Content-Length) so that it yields exactly
 * `wanted` bytes or errors, never ends early: a cut connection fails with a retryable
 * `Unavailable`. A server that sends more than was asked (s3rver answers `bytes=0-0` with the
 * whole object) is cut off after `wanted` bytes. Source errors become StoreErrors; `signal`
 * destroys it with `Aborted`; destroying it releases the socket.
 */
export function checkedBody(
  source: unknown,
  available: number,
  wanted: number,
  context: ErrorContext,
  signal: AbortSignal | undefined,
): Readable {
  const input = source instanceof Readable ? source : Readable.from(source as AsyncIterable<Uint8Array>);
  let delivered = 0;
  const output = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const piece = chunk.length <= wanted - delivered ? chunk : chunk.subarray(0, wanted - delivered);
      delivered += piece.length;
      done(null, piece.length > 0 ? piece : undefined);
      if (delivered === wanted && wanted < available) {
        input.unpipe(output);
        input.destroy();
        output.end();
      }
    },
    flush(done) {
      if (delivered < wanted) {
        done(new StoreError('Unavailable', `body ended after ${delivered} of ${wanted} bytes`, context));
      } else done();
    },
  });
  const onAbort = () => output.destroy(abortError(signal, context.operation, context.key));
  input.on('error', (err) => output.destroy(toStoreError(err, context)));
  output.on('close', () => {
    signal?.removeEventListener('abort', onAbort);
    if (!input.destroyed) input.destroy();
  });
  if (signal?.aborted) onAbort();
  else signal?.addEventListener('abort', onAbort, { once: true });
  input.pipe(output);
  return output;
}
