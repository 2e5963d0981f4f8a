import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { timeoutError } from '@ckpt/core/backend';
import { SilenceError } from './watchdog.js';

/** What a failed call was doing: the operation, the key (relative to the store), the condition sent. */
export interface ErrorContext {
  operation: string;
  key?: string;
  /** The put carried `ifGenerationMatch: 0` (`create`) or `ifGenerationMatch: <generation>` (`replace`). */
  condition?: 'create' | 'replace';
  bucket?: string;
  /** The store's name (`gs://bucket/prefix`), for errors about the store itself. */
  store?: string;
}

/** The parts of an SDK or network error the mapping looks at. */
export interface ErrorFacts {
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** The JSON API's reason (`notFound`, `rateLimitExceeded`, `conditionNotMet`, …). */
  reason?: string;
  /** Node's errno code for network failures (`ECONNRESET`, `ETIMEDOUT`, …) or the SDK's own code. */
  errno?: string;
  /** The error's name when it says something (`AbortError`, …). */
  name?: string;
  /** The message, for the cases only it identifies (no credentials, a missing bucket). */
  message?: string;
}

/** What google-auth-library says when Application Default Credentials found nothing. */
const NO_ADC = /Could not load the default credentials|Unable to detect a Project Id/i;

/** One line saying what ADC looked for: the user's fix, without the SDK's link. */
export const NO_CREDENTIALS =
  'no Google Cloud credentials: Application Default Credentials looked at GOOGLE_APPLICATION_CREDENTIALS, ' +
  "gcloud's application_default_credentials.json and the metadata server of Google Cloud machines; " +
  'run `gcloud auth application-default login`, or set keyFilename or credentials in the store config';

/** The reasons GCS gives when asked too much at once. */
const THROTTLING_REASONS = new Set(['rateLimitExceeded', 'userRateLimitExceeded']);
const RETRYABLE_REASONS = new Set([
  ...THROTTLING_REASONS,
  'backendError',
  'internalError',
  'serviceUnavailable',
]);
const DENIED_REASONS = new Set([
  'forbidden',
  'authError',
  'unauthorized',
  'accountDisabled',
  'insufficientPermissions',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ESOCKETTIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
  // fetch's (undici's) own names for a broken or silent connection
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);
/** The SDK's checksum failures (a download or an upload whose CRC32C/MD5 does not match). */
const INTEGRITY = new Set([
  'CONTENT_DOWNLOAD_MISMATCH',
  'FILE_NO_UPLOAD',
  'FILE_NO_UPLOAD_DELETE',
  'MD5_NOT_AVAILABLE',
]);

/**
 * The StoreError code for a GCS failure. A failed generation condition (412) is `AlreadyExists`
 * for a create and `PreconditionFailed` for a compare-and-swap. A missing bucket is a
 * configuration error (`InvalidArgument`), never `NotFound`, which callers read as "no such
 * checkpoint". 429, 408, 5xx, rate-limit reasons and broken or silent connections are
 * `Unavailable` (retryable); 401 and 403 are `PermissionDenied` (not).
 */
export function classify(facts: ErrorFacts, condition?: ErrorContext['condition']): StoreErrorCode {
  const { status, reason = '', errno, name, message = '' } = facts;
  if (NO_ADC.test(message)) return 'PermissionDenied';
  if (errno !== undefined && INTEGRITY.has(errno)) return 'Integrity';
  // the transport's own timeout is named AbortError: a silent server, not the caller's abort
  if (errno !== undefined && NETWORK.has(errno)) return 'Unavailable';
  if (name === 'AbortError') return 'Aborted';
  if (status === 412 || reason === 'conditionNotMet') {
    return condition === 'create' ? 'AlreadyExists' : 'PreconditionFailed';
  }
  if (isMissingBucket(facts)) return 'InvalidArgument';
  if (RETRYABLE_REASONS.has(reason)) return 'Unavailable';
  if (DENIED_REASONS.has(reason)) return 'PermissionDenied';
  if (status === 404) return 'NotFound';
  if (status === 401 || status === 403) return 'PermissionDenied';
  if (status === 409) return 'Conflict';
  if (status === 408 || status === 429) return 'Unavailable';
  if (status === 501) return 'Unsupported';
  if (status !== undefined && status >= 500) return 'Unavailable';
  if (status === 405) return 'Unsupported';
  if (status !== undefined && status >= 400)
    return reason === 'invalid' && /crc32c|md5|hash/i.test(message) ? 'Integrity' : 'InvalidArgument';
  if (errno === 'ENOTFOUND') return 'Unavailable';
  return 'Internal';
}

/** True when GCS asked for fewer requests: HTTP 429 or a rate-limit reason (some come with a 403). */
export function isThrottling(facts: ErrorFacts): boolean {
  return facts.status === 429 || THROTTLING_REASONS.has(facts.reason ?? '');
}

function isMissingBucket(facts: ErrorFacts): boolean {
  return (
    facts.status === 404 && /bucket does not exist|no such bucket|bucket not found/i.test(facts.message ?? '')
  );
}

/** Reads the facts of an error (`ErrorFacts`) from whatever was thrown: an `ApiError`, a `GaxiosError`, a Node error. */
export function factsOf(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as {
    name?: unknown;
    code?: unknown;
    status?: unknown;
    response?: { status?: unknown; statusCode?: unknown };
    errors?: { reason?: unknown }[];
    message?: unknown;
  };
  const facts: ErrorFacts = {};
  const status = [e.code, e.status, e.response?.status, e.response?.statusCode].find(
    (v) => typeof v === 'number' || (typeof v === 'string' && /^\d{3}$/.test(v)),
  );
  if (status !== undefined) facts.status = Number(status);
  if (typeof e.code === 'string' && !/^\d+$/.test(e.code)) facts.errno = e.code;
  const reason = Array.isArray(e.errors)
    ? e.errors.find((x) => typeof x?.reason === 'string')?.reason
    : undefined;
  if (typeof reason === 'string') facts.reason = reason;
  if (typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'ApiError') facts.name = e.name;
  if (typeof e.message === 'string' && e.message !== '') facts.message = e.message;
  return facts;
}

/**
 * Any failure as a StoreError: StoreErrors pass through; SDK and network errors get a code from
 * {@link classify}, `retryable` from it (an unknown host is not retried: a typo in the endpoint
 * does not heal), and a message naming what GCS said (the SDK's messages hold no credentials, and
 * StoreError redacts anything that looks like one).
 */
export function toStoreError(err: unknown, context: ErrorContext): StoreError {
  if (StoreError.is(err)) return err;
  const facts = factsOf(err);
  const code = classify(facts, context.condition);
  const throttled = code === 'Unavailable' && isThrottling(facts);
  const options = { operation: context.operation, key: context.key, cause: err, throttled };
  if (err instanceof SilenceError) return timeoutError(err.timeoutMs, options);
  if (code === 'PermissionDenied' && NO_ADC.test(facts.message ?? '')) {
    return new StoreError(code, NO_CREDENTIALS, { ...options, retryable: false });
  }
  if (code === 'Unavailable' && facts.errno === 'ENOTFOUND') {
    return new StoreError(code, describe(code, facts, context), { ...options, retryable: false });
  }
  return new StoreError(code, describe(code, facts, context), options);
}

const DETAIL: Partial<Record<StoreErrorCode, string>> = {
  NotFound: 'no such key',
  AlreadyExists: 'the key already exists',
  PreconditionFailed: 'the version does not match',
  Conflict: 'a concurrent request conflicted',
  PermissionDenied: 'access denied (check the credentials and the bucket IAM policy)',
  Aborted: 'the operation was aborted',
  Unavailable: 'Google Cloud Storage is unavailable',
  Integrity: 'the bytes do not match their checksum',
};

function describe(code: StoreErrorCode, facts: ErrorFacts, context: ErrorContext): string {
  let detail = DETAIL[code] ?? 'Google Cloud Storage request failed';
  if (isMissingBucket(facts)) {
    const bucket = `no such bucket${context.bucket ? ` "${context.bucket}"` : ''}`;
    detail = context.store ? `the store ${context.store} does not exist (${bucket})` : bucket;
  }
  const said = facts.message?.split('\n')[0]?.slice(0, 300);
  const tags = [facts.reason, facts.errno, facts.status !== undefined ? `HTTP ${facts.status}` : undefined]
    .filter((t) => t !== undefined)
    .join(', ');
  const text = said ? `${detail}: ${said}` : detail;
  return tags ? `${text} (${tags})` : text;
}
