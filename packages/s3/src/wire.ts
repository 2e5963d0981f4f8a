import { createHash } from 'node:crypto';
import { type ByteRange, type PutMode, StoreError } from '@ckpt/core';

/**
 * The version token for an ETag: always the quoted form (`"abc"`), so a token from `put`, `head`
 * and `list` compare equal and can be sent back as `If-Match` unchanged.
 */
export function versionOf(etag: string | undefined, operation: string, key: string): string {
  if (!etag) throw new StoreError('Internal', 'the answer has no ETag', { operation, key });
  return etag.startsWith('"') || etag.startsWith('W/') ? etag : `"${etag}"`;
}

/** Base64 MD5 of `bytes`, for the Content-MD5 header. */
export function contentMd5(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('base64');
}

/**
 * The `Range` header for `range`, or undefined when the whole object is wanted. Always the
 * `bytes=a-b` / `bytes=a-` forms (suffix ranges are wrong on some servers). `length: 0` has no
 * header form: callers answer it without a GET.
 */
export function rangeHeader(range: ByteRange | undefined): string | undefined {
  if (!range || (range.offset === 0 && range.length === undefined)) return undefined;
  const end = range.length === undefined ? '' : String(range.offset + range.length - 1);
  return `bytes=${range.offset}-${end}`;
}

/** Parses `bytes a-b/total` (a Content-Range header); undefined when absent or malformed. */
export function parseContentRange(header: string | undefined) {
  const match = header ? /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header.trim()) : null;
  if (!match) return undefined;
  const [start, end, total] = [Number(match[1]), Number(match[2]), Number(match[3])];
  return { offset: start, length: end - start + 1, total };
}

/** The `If-None-Match` / `If-Match` headers of a put mode. */
export function conditionHeaders(mode: PutMode): { IfNoneMatch?: string; IfMatch?: string } {
  if (mode === 'create') return { IfNoneMatch: '*' };
  if (typeof mode === 'object') return { IfMatch: mode.update };
  return {};
}
