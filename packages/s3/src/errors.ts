import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { timeoutError } from '@ckpt/core/backend';

/** What a failed call was doing: the operation, the key (relative to the store), the condition sent. */
export interface ErrorContext {
  operation: string;
  key?: string;
  /** The put carried `If-None-Match: *` (`create`) or `If-Match` (`replace`). */
  condition?: 'create' | 'replace';
  bucket?: string;
  /** The store's name (`s3://bucket/prefix`), for errors about the store itself. */
  store?: string;
  /** The client's request timeout, when the store built the client: its expiry names it. */
  timeoutMs?: number | undefined;
}

/** The parts of an SDK or network error the mapping looks at. */
export interface ErrorFacts {
  /** SDK exception name or S3 error code: `NoSuchKey`, `SlowDown`, `AbortError`, … */
  name?: string;
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** Node's errno code for network failures: `ECONNRESET`, `ECONNREFUSED`, … */
  errno?: string;
  /** The SDK marked it retryable (`$retryable`). */
  retryable?: boolean;
}

const NOT_FOUND = new Set(['NoSuchKey', 'NotFound', 'NoSuchUpload']);
const DENIED = new Set([
  'AccessDenied',
  'AllAccessDisabled',
  'InvalidAccessKeyId',
  'SignatureDoesNotMatch',
  'ExpiredToken',
  'InvalidToken',
  'TokenRefreshRequired',
  'CredentialsProviderError',
  'AccountProblem',
]);
/** What S3 and S3-compatible servers (MinIO's `SlowDownRead`…) answer when asked too much at once. */
const THROTTLING = new Set([
  'SlowDown',
  'SlowDownRead',
  'SlowDownWrite',
  'Throttling',
  'ThrottlingException',
  'TooManyRequestsException',
  'RequestThrottled',
  'RequestLimitExceeded',
]);
const TRANSIENT = new Set([
  'RequestTimeout',
  'RequestTimeoutException',
  'TimeoutError',
  'InternalError',
  'ServiceUnavailable',
  'OperationAborted',
]);
const NETWORK = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const INTEGRITY = new Set(['BadDigest', 'InvalidDigest', 'XAmzContentSHA256Mismatch', 'IncompleteBody']);
const UNSUPPORTED = new Set(['NotImplemented', 'MethodNotAllowed']);

/**
 * The StoreError code for an S3 failure. Names win over statuses (a 400 `RequestTimeout` is
 * transient, a 400 `ExpiredToken` is a permission problem); then the status decides. A missing
 * bucket is a configuration error (`InvalidArgument`), never `NotFound`, which callers read as "no
 * such checkpoint": a mistyped bucket must not look like an empty store. (A HEAD answer has no
 * body, so a HEAD in a missing bucket still reads as a missing key.)
 */
export function classify(facts: ErrorFacts, condition?: ErrorContext['condition']): StoreErrorCode {
  const { name = '', status, errno } = facts;
  if (name === 'AbortError') return 'Aborted';
  if (name === 'PreconditionFailed' || status === 412) {
    return condition === 'create' ? 'AlreadyExists' : 'PreconditionFailed';
  }
  if (name === 'ConditionalRequestConflict')
    return condition === 'replace' ? 'PreconditionFailed' : 'Conflict';
  if (name === 'NoSuchBucket') return 'InvalidArgument';
  // If-Match on a key that does not exist answers 404 NoSuchKey (AWS documents it, MinIO does the
  // same): for a compare-and-swap, the version the caller holds is not the current one
  if (name === 'NoSuchKey' && condition === 'replace') return 'PreconditionFailed';
  if (NOT_FOUND.has(name)) return 'NotFound';
  if (DENIED.has(name)) return 'PermissionDenied';
  if (INTEGRITY.has(name)) return 'Integrity';
  if (isThrottling(facts) || TRANSIENT.has(name) || (errno !== undefined && NETWORK.has(errno)))
    return 'Unavailable';
  if (UNSUPPORTED.has(name)) return 'Unsupported';
  if (status === 404) return 'NotFound';
  if (status === 403 || status === 401) return 'PermissionDenied';
  if (status === 409) return 'Conflict';
  if (status === 429 || (status !== undefined && status >= 500)) {
    return status === 501 ? 'Unsupported' : 'Unavailable';
  }
  if (status === 405) return 'Unsupported';
  if (status !== undefined && status >= 400) return 'InvalidArgument';
  if (errno === 'ENOTFOUND' || facts.retryable) return 'Unavailable';
  if (/^Region is missing/i.test(name)) return 'InvalidArgument';
  return 'Internal';
}

/**
 * True when S3 asked for fewer requests: a throttling code, HTTP 429, or a 503 without a code (S3
 * answers a HEAD without a body, so its `SlowDown` reaches the SDK as `Unknown`).
 */
export function isThrottling(facts: ErrorFacts): boolean {
  const uncoded = facts.name === undefined || facts.name === 'Unknown';
  return THROTTLING.has(facts.name ?? '') || facts.status === 429 || (facts.status === 503 && uncoded);
}

/** Reads {@link ErrorFacts} from whatever was thrown (SDK exception, Node error, anything). */
export function factsOf(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as {
    name?: unknown;
    Code?: unknown;
    code?: unknown;
    $metadata?: { httpStatusCode?: unknown };
    $retryable?: unknown;
    message?: unknown;
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const facts: ErrorFacts = {};
  const name = str(e.Code) ?? (str(e.name) !== 'Error' ? str(e.name) : undefined);
  if (name) facts.name = name;
  else if (str(e.message)?.startsWith('Region is missing')) facts.name = 'Region is missing';
  if (typeof e.$metadata?.httpStatusCode === 'number') facts.status = e.$metadata.httpStatusCode;
  if (str(e.code)) facts.errno = e.code as string;
  if (e.$retryable) facts.retryable = true;
  return facts;
}

/**
 * Any failure as a StoreError: StoreErrors pass through; SDK and network errors get a code from
 * {@link classify}, a message naming the operation, the key and what S3 said (never credentials:
 * the SDK's messages hold none, and StoreError redacts anything that looks like one), and the
 * original as `cause`.
 */
export function toStoreError(err: unknown, context: ErrorContext): StoreError {
  if (StoreError.is(err)) return err;
  const facts = factsOf(err);
  const code = classify(facts, context.condition);
  const throttled = code === 'Unavailable' && isThrottling(facts);
  const options = { operation: context.operation, key: context.key, cause: err, throttled };
  if (isRequestTimeout(facts, err) && context.timeoutMs !== undefined)
    return timeoutError(context.timeoutMs, options);
  if (code === 'Unavailable' && facts.errno === 'ENOTFOUND') {
    return new StoreError(code, describe(code, facts, err, context), { ...options, retryable: false });
  }
  return new StoreError(code, describe(code, facts, err, context), options);
}

/** The SDK's request, socket or body timeout (not its connect timeout, which is another setting). */
function isRequestTimeout(facts: ErrorFacts, err: unknown): boolean {
  return (
    facts.name === 'TimeoutError' && !/establish a connection/.test(err instanceof Error ? err.message : '')
  );
}

/** A StoreError for one entry of a DeleteObjects answer (`Errors[]`). */
export function deleteEntryError(code: string | undefined, message: string | undefined, key: string) {
  const facts: ErrorFacts = code ? { name: code } : {};
  return new StoreError(classify(facts), `${message ?? 'not deleted'} (${code ?? 'no code'})`, {
    operation: 'deleteMany',
    key,
  });
}

const DETAIL: Partial<Record<StoreErrorCode, string>> = {
  NotFound: 'no such key',
  AlreadyExists: 'the key already exists',
  PreconditionFailed: 'the version does not match',
  Conflict: 'a concurrent request conflicted',
  PermissionDenied: 'access denied (check the credentials and the bucket policy)',
  Aborted: 'the operation was aborted',
  Unavailable: 'S3 is unavailable',
};

function describe(code: StoreErrorCode, facts: ErrorFacts, err: unknown, context: ErrorContext): string {
  let detail = DETAIL[code] ?? 'S3 request failed';
  if (facts.name === 'NoSuchBucket') {
    const bucket = `no such bucket${context.bucket ? ` "${context.bucket}"` : ''}`;
    detail = context.store ? `the store ${context.store} does not exist (${bucket})` : bucket;
  }
  if (facts.name === 'NoSuchUpload') detail = 'the multipart upload is gone';
  const said =
    err instanceof Error && err.message && err.message !== 'UnknownError' ? err.message : undefined;
  const tags = [facts.name, facts.errno, facts.status !== undefined ? `HTTP ${facts.status}` : undefined]
    .filter((t) => t !== undefined)
    .join(', ');
  const text = said && said !== facts.name ? `${detail}: ${said.slice(0, 300)}` : detail;
  return tags ? `${text} (${tags})` : text;
}
