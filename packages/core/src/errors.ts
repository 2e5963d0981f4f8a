import { durationText } from './duration.js';

/**
 * The closed set of failure codes every store and every engine call reports.
 *
 * | code                 | meaning                                                        | retryable |
 * | -------------------- | -------------------------------------------------------------- | --------- |
 * | `NotFound`           | the key (or checkpoint, or generation) does not exist          | no        |
 * | `AlreadyExists`      | a create-only write found the key already present              | no        |
 * | `PreconditionFailed` | a compare-and-swap write found a different version             | no        |
 * | `Conflict`           | another writer changed what this operation depended on         | no        |
 * | `PermissionDenied`   | credentials are missing, wrong or lack the permission          | no        |
 * | `InvalidArgument`    | a key, option, config field or input is malformed              | no        |
 * | `Unavailable`        | transient: network, throttling (`throttled`), timeouts, 5xx    | **yes**   |
 * | `Aborted`            | the caller's `AbortSignal` fired                               | no        |
 * | `Integrity`          | bytes do not match their size or hash; a malformed manifest    | no        |
 * | `Unsupported`        | the store cannot do this (see its capabilities)                | no        |
 * | `Internal`           | a bug or an unexpected answer; the `cause` says more           | no        |
 */
export type StoreErrorCode =
  | 'NotFound'
  | 'AlreadyExists'
  | 'PreconditionFailed'
  | 'Conflict'
  | 'PermissionDenied'
  | 'InvalidArgument'
  | 'Unavailable'
  | 'Aborted'
  | 'Integrity'
  | 'Unsupported'
  | 'Internal';

export const STORE_ERROR_CODES: readonly StoreErrorCode[] = [
  'NotFound',
  'AlreadyExists',
  'PreconditionFailed',
  'Conflict',
  'PermissionDenied',
  'InvalidArgument',
  'Unavailable',
  'Aborted',
  'Integrity',
  'Unsupported',
  'Internal',
];

export interface StoreErrorOptions {
  /** What was being done: `put`, `get`, `list`, `push`, … */
  operation?: string;
  /** The object key (or path, or model) the operation was about. */
  key?: string;
  /** The underlying error (SDK error, `errno` error). Never shown in `message`. */
  cause?: unknown;
  /** Overrides the default (`true` only for `Unavailable`). */
  retryable?: boolean;
  /**
   * The service asked for fewer requests (HTTP 429, S3 `SlowDown`, GCS `rateLimitExceeded`, Azure
   * `ServerBusy`): an `Unavailable` answer after which the store keeps fewer requests in flight.
   * Default `false`.
   */
  throttled?: boolean;
}

const BRAND = Symbol.for('ckpt.StoreError');

/**
 * The one error class of ckpt. `message` reads `<operation> <key>: <detail>` and never holds a
 * credential (see {@link redact}). Use {@link StoreError.is} rather than `instanceof`: it also
 * recognises errors thrown by another copy of `@ckpt/core` in `node_modules`.
 *
 * @example
 * ```ts
 * try { await store.get('a/b') }
 * catch (err) { if (StoreError.is(err, 'NotFound')) return undefined; throw err }
 * ```
 */
export class StoreError extends Error {
  readonly code: StoreErrorCode;
  readonly retryable: boolean;
  /** See {@link StoreErrorOptions.throttled}. */
  readonly throttled: boolean;
  readonly operation: string | undefined;
  readonly key: string | undefined;
  readonly [BRAND] = true;

  constructor(code: StoreErrorCode, detail: string, options: StoreErrorOptions = {}) {
    const where = [options.operation, options.key].filter(Boolean).join(' ');
    super(redact(where ? `${where}: ${detail}` : detail), { cause: options.cause });
    this.name = 'StoreError';
    this.code = code;
    this.operation = options.operation;
    this.key = options.key;
    this.retryable = options.retryable ?? code === 'Unavailable';
    this.throttled = options.throttled ?? false;
  }

  /** True when `err` is a StoreError (from any copy of this package), optionally of one of `codes`. */
  static is(err: unknown, ...codes: StoreErrorCode[]): err is StoreError {
    if (typeof err !== 'object' || err === null || !(BRAND in err)) return false;
    return codes.length === 0 || codes.includes((err as StoreError).code);
  }
}

/**
 * The retryable `Unavailable` of a request that went `ms` without an answer, or a body without
 * progress: every backend words it alike, so a log names the timeout whatever the store.
 */
export function timeoutError(ms: number, options: Omit<StoreErrorOptions, 'retryable'> = {}): StoreError {
  return new StoreError('Unavailable', timeoutText(ms), options);
}

/** `no answer within the 2s timeout`: the words of {@link timeoutError}, for an error an SDK still carries. */
export function timeoutText(ms: number): string {
  return `no answer within the ${durationText(ms)} timeout`;
}

/** An `Aborted` error for `signal`, or undefined when it has not fired. */
export function abortError(signal: AbortSignal | undefined, operation?: string, key?: string) {
  if (!signal?.aborted) return undefined;
  return new StoreError('Aborted', 'the operation was aborted', { operation, key, cause: signal.reason });
}

/** Throws an `Aborted` StoreError when `signal` has fired. */
export function throwIfAborted(signal: AbortSignal | undefined, operation?: string, key?: string): void {
  const err = abortError(signal, operation, key);
  if (err) throw err;
}

/**
 * `promise`, or an `Aborted` rejection ({@link abortError}) as soon as `signal` fires, whichever
 * comes first; a signal that has already fired wins. `promise` itself runs on (stop its work
 * separately) and its rejection, if any, is absorbed. The listener is removed as soon as either
 * settles: race each step (each chunk, each reply) anew, since one listener left on a long-lived
 * signal would keep every promise it was raced against alive.
 */
export function abortable<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  operation?: string,
  key?: string,
): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, operation, key));
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
}

const SECRET_PATTERNS: [RegExp, string][] = [
  // key=value pairs in connection strings, query strings and JSON
  [
    /\b(AccountKey|SharedAccessSignature|sig|Signature|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|X-Goog-Signature|secretAccessKey|secret|accessToken|access_token|client_secret|password|token|CKPT_ENCRYPTION_KEY|encryption_?key)(["']?\s*[=:]\s*["']?)[^;&\s"',}]+/gi,
    '$1$2<redacted>',
  ],
  // user:password@ in URLs
  [/(\w+:\/\/)[^/\s:@]+:[^/\s@]+@/g, '$1<redacted>@'],
  // Authorization headers
  [/(Authorization["']?\s*[:=]\s*["']?)(?:[\w-]+\s+)?[^\s,;"']+/gi, '$1<redacted>'],
  // PEM private keys
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g, '<redacted>'],
  // V8's JSON.parse errors quote up to ~20 characters of the text (a key file's, say) around the error
  [
    /(Unexpected token )?(?:'[\s\S]', )?(?:\.\.\.)?\\?"[\s\S]{0,80}?\\?"(?:\.\.\.)? is not valid JSON/g,
    '$1<redacted>: not valid JSON',
  ],
];

/**
 * Removes anything that looks like a credential from `text`: account keys, SAS signatures,
 * secret keys, tokens, passwords in URLs, authorization headers, private keys, and the excerpts
 * of JSON texts that V8's parse errors quote.
 */
export function redact(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}
