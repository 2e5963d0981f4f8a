import { Readable } from 'node:stream';
import { StoreError } from './errors.js';
import type { PutBody } from './store.js';

/** The body as an async iterable of byte chunks (a Uint8Array becomes one chunk). */
export function bodyChunks(body: PutBody): AsyncIterable<Uint8Array> {
  if (body instanceof Uint8Array) return Readable.from([body], { objectMode: false });
  return body;
}

/** True when the body can be sent again (bytes), false for streams that are read once. */
export function isReplayable(body: PutBody): body is Uint8Array {
  return body instanceof Uint8Array;
}

/**
 * Reads a whole stream into one Buffer. For small objects only (manifests, records): it throws
 * `Integrity` past `maxBytes`, so a hostile or corrupt object can never exhaust memory.
 */
export async function readAll(
  source: AsyncIterable<Uint8Array>,
  maxBytes = 64 * 1024 * 1024,
  what = 'object',
): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.byteLength;
    if (total > maxBytes) {
      if ('destroy' in source && typeof source.destroy === 'function') (source as Readable).destroy();
      throw new StoreError('Integrity', `larger than ${maxBytes} bytes`, { operation: 'read', key: what });
    }
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(parts, total);
}
