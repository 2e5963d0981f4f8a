import { StoreError } from './errors.js';

/** Longest key, in UTF-8 bytes (S3's and GCS's limit). */
export const MAX_KEY_BYTES = 1024;
/** Longest key segment, in UTF-8 bytes (a file name on most filesystems). */
export const MAX_SEGMENT_BYTES = 255;

// C0/C1 control characters, DEL, backslash: never in a key.
// biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\\]/;

/**
 * Why `key` is not a valid object key, or undefined when it is.
 *
 * A key is one or more `/`-separated segments. Each segment is 1–255 UTF-8 bytes, is not `.` or
 * `..`, does not end with `.` (Azure drops trailing dots), and holds no control character or
 * backslash. The whole key is at most 1024 bytes, with no leading or trailing `/` and no `//`.
 * These rules make every key portable to every backend and safe as a relative file path.
 */
export function keyProblem(key: string): string | undefined {
  if (typeof key !== 'string' || key.length === 0) return 'key is empty';
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) return `key is longer than ${MAX_KEY_BYTES} bytes`;
  if (FORBIDDEN.test(key)) return 'key contains a control character or a backslash';
  if (key.startsWith('/')) return 'key starts with /';
  for (const segment of key.split('/')) {
    if (segment === '') return 'key has an empty segment (// or a trailing /)';
    if (segment === '.' || segment === '..') return `key has a "${segment}" segment`;
    if (segment.endsWith('.')) return `key segment "${segment}" ends with "."`;
    if (Buffer.byteLength(segment) > MAX_SEGMENT_BYTES)
      return `key segment is longer than ${MAX_SEGMENT_BYTES} bytes`;
  }
  return undefined;
}

/** Returns `key` when valid, else throws `InvalidArgument` naming the operation and the problem. */
export function validateKey(key: string, operation = 'key'): string {
  const problem = keyProblem(key);
  if (problem) throw new StoreError('InvalidArgument', problem, { operation, key: JSON.stringify(key) });
  return key;
}

/**
 * Normalises a list prefix or a store prefix: `''` stays `''`; otherwise leading `/` are trimmed
 * and trailing ones collapse to one (`/a//` → `a/`, which matches `a/b` but not `ab`). A prefix may
 * end mid-segment (`models/ab` matches `models/abc`, `models/.` matches `models/.cache`); use
 * {@link dirPrefix} for "everything under this folder". Throws `InvalidArgument` for a prefix no
 * valid key can start with.
 */
export function normalizePrefix(prefix: string | undefined, operation = 'prefix'): string {
  if (!prefix) return '';
  const trimmed = prefix.replace(/^\/+/, '');
  if (trimmed === '') return '';
  const body = trimmed.replace(/\/+$/, '');
  const partial = body === trimmed;
  const problem = keyProblem(body);
  // a partial last segment ('.', '..', 'a.') is fine when a longer key can start with it
  if (problem && !(partial && keyProblem(`${body}x`) === undefined)) {
    throw new StoreError('InvalidArgument', problem, { operation, key: JSON.stringify(prefix) });
  }
  return partial ? body : `${body}/`;
}

/** `a/b` → `a/b/`; `''` → `''`. The prefix that lists exactly the keys under folder `dir`. */
export function dirPrefix(dir: string): string {
  const p = normalizePrefix(dir);
  return p === '' || p.endsWith('/') ? p : `${p}/`;
}

/** Joins key parts with `/`, ignoring empty parts and surrounding slashes. Does not validate. */
export function joinKey(...parts: string[]): string {
  return parts
    .map((p) => p.replace(/^\/+|\/+$/g, ''))
    .filter((p) => p !== '')
    .join('/');
}

/** Byte-wise (UTF-8) comparison: the order every store lists keys in. */
export function compareKeys(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
