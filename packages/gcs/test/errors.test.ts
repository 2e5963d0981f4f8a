// The mapping of SDK errors to StoreErrors: pure logic, on errors shaped as the SDK throws them.
import { StoreError } from '@ckpt/core';
import { describe, expect, test } from 'vitest';
import { classify, factsOf, NO_CREDENTIALS, toStoreError } from '../src/errors.js';

/** An `ApiError` as the SDK builds it from a JSON error answer. */
function apiError(code: number, reason?: string, message = 'failed') {
  return Object.assign(new Error(message), {
    name: 'Error',
    code,
    errors: reason ? [{ domain: 'global', reason, message }] : [],
  });
}
const network = (code: string) => Object.assign(new Error(`request failed, reason: ${code}`), { code });
const context = { operation: 'get', key: 'k', bucket: 'b', store: 'gs://b/p' };

describe('throttling', () => {
  test.each([
    [apiError(429, 'rateLimitExceeded'), true],
    [apiError(403, 'userRateLimitExceeded'), true],
    [apiError(429), true],
    [apiError(503, 'backendError'), false],
    [apiError(500), false],
  ])('%o is throttling: %s, and Unavailable', (error, throttled) => {
    expect(toStoreError(error, context)).toMatchObject({ code: 'Unavailable', retryable: true, throttled });
  });
});

describe('classify', () => {
  test.each([
    [apiError(404, 'notFound', 'No such object: b/p/k'), undefined, 'NotFound', false],
    [apiError(412, 'conditionNotMet'), 'create', 'AlreadyExists', false],
    [apiError(412, 'conditionNotMet'), 'replace', 'PreconditionFailed', false],
    [apiError(429, 'rateLimitExceeded'), undefined, 'Unavailable', true],
    [apiError(403, 'rateLimitExceeded'), undefined, 'Unavailable', true],
    [apiError(503, 'backendError'), undefined, 'Unavailable', true],
    [apiError(500), undefined, 'Unavailable', true],
    [apiError(502), undefined, 'Unavailable', true],
    [apiError(408), undefined, 'Unavailable', true],
    [
      apiError(401, 'required', 'Anonymous caller does not have storage.objects.get access'),
      undefined,
      'PermissionDenied',
      false,
    ],
    [apiError(403, 'forbidden'), undefined, 'PermissionDenied', false],
    [apiError(409, 'conflict'), undefined, 'Conflict', false],
    [apiError(400, 'invalid', 'Invalid argument'), undefined, 'InvalidArgument', false],
    [
      apiError(400, 'invalid', 'provided CRC32C "a" doesn\'t match calculated CRC32C "b"'),
      undefined,
      'Integrity',
      false,
    ],
    [apiError(501), undefined, 'Unsupported', false],
    [network('ECONNRESET'), undefined, 'Unavailable', true],
    [network('ECONNREFUSED'), undefined, 'Unavailable', true],
    [network('ETIMEDOUT'), undefined, 'Unavailable', true],
    [network('UND_ERR_SOCKET'), undefined, 'Unavailable', true],
    [network('ENOTFOUND'), undefined, 'Unavailable', false],
    [
      Object.assign(new Error('Upload failed'), { name: 'Upload failed', code: 503 }),
      undefined,
      'Unavailable',
      true,
    ],
    [
      Object.assign(new Error('mismatch'), { code: 'CONTENT_DOWNLOAD_MISMATCH' }),
      undefined,
      'Integrity',
      false,
    ],
    [new Error('something else'), undefined, 'Internal', false],
  ] as const)('%s (%s) → %s', (error, condition, code, retryable) => {
    const mapped = toStoreError(error, { ...context, ...(condition ? { condition } : {}) });
    expect(mapped.code).toBe(code);
    expect(mapped.retryable).toBe(retryable);
    expect(mapped.cause).toBe(error);
  });

  test("the transport's timeout, named AbortError, is a silent server (retryable), not the caller's abort", () => {
    const timeout = Object.assign(new Error('network timeout at: http://x'), {
      name: 'AbortError',
      code: 'ETIMEDOUT',
    });
    expect(classify(factsOf(timeout))).toBe('Unavailable');
    expect(classify(factsOf(Object.assign(new Error('aborted'), { name: 'AbortError' })))).toBe('Aborted');
  });

  test('a missing bucket is a configuration error naming the store, never NotFound', () => {
    const mapped = toStoreError(apiError(404, 'notFound', 'The specified bucket does not exist.'), context);
    expect(mapped.code).toBe('InvalidArgument');
    expect(mapped.message).toContain('the store gs://b/p does not exist (no such bucket "b")');
  });

  test('missing Application Default Credentials: one line saying where they were looked for', () => {
    const error = new Error(
      'Could not load the default credentials. Browse to https://cloud.google.com/docs/authentication/getting-started for more information.',
    );
    const mapped = toStoreError(error, context);
    expect(mapped.code).toBe('PermissionDenied');
    expect(mapped.retryable).toBe(false);
    expect(mapped.message).toContain(NO_CREDENTIALS);
    expect(mapped.message).not.toContain('\n');
  });

  test('StoreErrors pass through', () => {
    const error = new StoreError('Integrity', 'short', { operation: 'put' });
    expect(toStoreError(error, context)).toBe(error);
  });
});
