import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { AUTH_VARIABLES, type AuthMode } from './auth.js';

/** What a failed call was doing, and where. */
export interface ErrorContext {
  operation: string;
  key?: string;
  /** The put carried `If-None-Match: *` (`create`) or `If-Match` (`replace`). */
  condition?: 'create' | 'replace';
  /** The store's name (`az://container/prefix`), for errors about the store itself. */
  store?: string;
  /** How the store authenticates, for errors about credentials. */
  auth?: AuthMode;
}

/** The parts of an SDK or network error the mapping looks at. */
export interface ErrorFacts {
  /** Azure's error code (`BlobNotFound`, `ServerBusy`, …) or the error's name. */
  name?: string;
  /** HTTP status of the answer, when there was one. */
  status?: number;
  /** Node's errno code for network failures: `ECONNRESET`, `ECONNREFUSED`, … */
  errno?: string;
  /**
   * The answer broke off while the SDK read it whole (a listing, an error body): its
   * `PARSE_ERROR` "Error reading response as text", which carries no errno.
   */
  bodyBroken?: boolean;
}

const DENIED = new Set([
  'AuthenticationFailed',
  'AuthorizationFailure',
  'AuthorizationPermissionMismatch',
  'AuthorizationSourceIPMismatch',
  'AuthorizationProtocolMismatch',
  'AuthorizationResourceTypeMismatch',
  'AuthorizationServiceMismatch',
  'InsufficientAccountPermissions',
  'AccountIsDisabled',
  'CredentialUnavailableError',
  'AuthenticationRequiredError',
  'AggregateAuthenticationError',
]);
const TRANSIENT = new Set([
  'ServerBusy',
  'InternalError',
  'OperationTimedOut',
  'TimeoutError',
  'REQUEST_SEND_ERROR',
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
const INTEGRITY = new Set(['Md5Mismatch', 'Crc64Mismatch', 'InvalidMd5', 'InvalidBlockList']);

/**
 * The StoreError code for an Azure failure. Codes win over statuses; then the status decides. A
 * missing container is a configuration error (`InvalidArgument`), never `NotFound`, which callers
 * read as "no such checkpoint". A failed `If-None-Match: *` answers 409 `BlobAlreadyExists`, a
 * failed `If-Match` 412 `ConditionNotMet` (or 404 on a missing blob): `AlreadyExists` for a
 * create-only put, `PreconditionFailed` for a compare-and-swap.
 */
export function classify(facts: ErrorFacts, condition?: ErrorContext['condition']): StoreErrorCode {
  const { name = '', status, errno, bodyBroken } = facts;
  if (name === 'ContainerNotFound') return 'InvalidArgument';
  if (condition === 'create' && (name === 'BlobAlreadyExists' || status === 409 || status === 412))
    return 'AlreadyExists';
  if (condition === 'replace' && (status === 412 || status === 404 || name === 'ConditionNotMet'))
    return 'PreconditionFailed';
  if (name === 'BlobAlreadyExists') return 'AlreadyExists';
  if (name === 'ConditionNotMet' || status === 412) return 'PreconditionFailed';
  if (name === 'BlobNotFound') return 'NotFound';
  if (DENIED.has(name)) return 'PermissionDenied';
  if (INTEGRITY.has(name)) return 'Integrity';
  if (TRANSIENT.has(name) || bodyBroken || (errno !== undefined && NETWORK.has(errno))) return 'Unavailable';
  if (status === 404) return 'NotFound';
  if (status === 401 || status === 403) return 'PermissionDenied';
  if (status === 409) return 'Conflict';
  if (status === 429 || (status !== undefined && status >= 500))
    return status === 501 ? 'Unsupported' : 'Unavailable';
  if (status === 405) return 'Unsupported';
  if (status !== undefined && status >= 400) return 'InvalidArgument';
  if (errno === 'ENOTFOUND') return 'Unavailable';
  return 'Internal';
}

/** True when Azure asked for fewer requests: `ServerBusy` (503, or 500 for some limits) or HTTP 429. */
export function isThrottling(facts: ErrorFacts): boolean {
  return facts.name === 'ServerBusy' || facts.status === 429;
}

/** Reads {@link ErrorFacts} from whatever was thrown (RestError, identity error, Node error). */
export function factsOf(err: unknown): ErrorFacts {
  if (typeof err !== 'object' || err === null) return {};
  const e = err as {
    name?: unknown;
    code?: unknown;
    statusCode?: unknown;
    details?: { errorCode?: unknown };
    cause?: { code?: unknown };
    message?: unknown;
  };
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const facts: ErrorFacts = {};
  const errno = [e.code, e.cause?.code].map(str).find((c) => c !== undefined && /^E[A-Z_]+$/.test(c));
  const name =
    str(e.details?.errorCode) ??
    (str(e.code) && str(e.code) !== errno ? str(e.code) : undefined) ??
    (str(e.name) !== 'Error' && str(e.name) !== 'RestError' ? str(e.name) : undefined);
  if (name) facts.name = name;
  if (typeof e.statusCode === 'number') facts.status = e.statusCode;
  if (errno) facts.errno = errno;
  if (e.code === 'PARSE_ERROR' && str(e.message)?.startsWith('Error reading response as text'))
    facts.bodyBroken = true;
  return facts;
}

/**
 * Any failure as a StoreError: SDK and network errors get a code from {@link classify} and a
 * message naming what Azure said (never a credential: the SDK's messages hold none, and
 * StoreError redacts anything that looks like one). A credential problem is one line naming the
 * credential tried and the variables that select another.
 */
export function toStoreError(err: unknown, context: ErrorContext): StoreError {
  if (StoreError.is(err)) return err;
  const facts = factsOf(err);
  const code = classify(facts, context.condition);
  const throttled = code === 'Unavailable' && isThrottling(facts);
  const options = { operation: context.operation, key: context.key, cause: err, throttled };
  const message = describe(code, facts, err, context);
  if (code === 'Unavailable' && facts.errno === 'ENOTFOUND') {
    return new StoreError(code, message, { ...options, retryable: false });
  }
  return new StoreError(code, message, options);
}

/** A StoreError for one failed sub-request of a batch delete. */
export function batchEntryError(
  status: number,
  errorCode: string | undefined,
  key: string,
  context: ErrorContext,
) {
  const facts: ErrorFacts = { status, ...(errorCode ? { name: errorCode } : {}) };
  return new StoreError(classify(facts), describe(classify(facts), facts, undefined, context), {
    operation: 'delete',
    key,
  });
}

const DETAIL: Partial<Record<StoreErrorCode, string>> = {
  NotFound: 'no such blob',
  AlreadyExists: 'the key already exists',
  PreconditionFailed: 'the version does not match',
  Conflict: 'a concurrent request conflicted',
  Aborted: 'the operation was aborted',
  Unavailable: 'Azure Blob Storage is unavailable',
};

function describe(code: StoreErrorCode, facts: ErrorFacts, err: unknown, context: ErrorContext): string {
  let detail = DETAIL[code] ?? 'Azure request failed';
  if (facts.name === 'ContainerNotFound') {
    detail = `the store ${context.store ?? ''} does not exist (no such container)`.replace('  ', ' ');
  }
  if (code === 'PermissionDenied') detail = deniedText(context.auth);
  const said = err instanceof Error && err.message ? firstLine(err.message) : undefined;
  const tags = [facts.name, facts.errno, facts.status !== undefined ? `HTTP ${facts.status}` : undefined]
    .filter((t) => t !== undefined)
    .join(', ');
  const text =
    said && said !== facts.name && code !== 'PermissionDenied' ? `${detail}: ${said.slice(0, 300)}` : detail;
  return tags ? `${text} (${tags})` : text;
}

/** "access denied with <mode> (<its variable>); other credentials: <the others' variables>". */
export function deniedText(auth: AuthMode | undefined): string {
  if (!auth) return 'access denied (check the credentials and the container permissions)';
  const from = auth === 'account key' ? AUTH_VARIABLES[auth] : `${AUTH_VARIABLES[auth]} or config`;
  const tried = auth === 'DefaultAzureCredential' ? auth : `the ${auth} (${from})`;
  const others = (Object.keys(AUTH_VARIABLES) as AuthMode[])
    .filter((mode) => mode !== auth && mode !== 'DefaultAzureCredential')
    .map((mode) => AUTH_VARIABLES[mode]);
  return `access denied with ${tried}; another credential is chosen by ${others.join(', ')}, else DefaultAzureCredential (az login, AZURE_CLIENT_ID…)`;
}

function firstLine(text: string): string {
  return text.split('\n')[0]!.trim();
}
