import { StoreError } from '../errors.js';

/**
 * `err` with ` (origin)` appended to its message, e.g. `(in /srv/ckpt.config.json)` or
 * `(from CKPT_STORE)`; code, operation and key are kept, the original becomes the `cause`.
 * Anything that is not a StoreError is returned unchanged.
 */
export function withOrigin(err: unknown, origin: string): unknown {
  if (!StoreError.is(err)) return err;
  const where = [err.operation, err.key].filter(Boolean).join(' ');
  const detail =
    where && err.message.startsWith(`${where}: `) ? err.message.slice(where.length + 2) : err.message;
  return new StoreError(err.code, `${detail} (${origin})`, {
    operation: err.operation,
    key: err.key,
    retryable: err.retryable,
    cause: err,
  });
}
