import { NoSuchBucket, NoSuchKey, NotFound, S3ServiceException } from '@aws-sdk/client-s3';
import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { BlockReader } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { classify, deleteEntryError, type ErrorFacts, toStoreError } from '../src/errors.js';
import { choosePartSize } from '../src/multipart.js';
import { isCustomEndpoint, resolveOptions } from '../src/options.js';
import { parseContentRange, rangeHeader, versionOf } from '../src/wire.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const meta = (status: number) => ({ httpStatusCode: status, attempts: 1, totalRetryDelay: 0 });

describe('choosePartSize', () => {
  it('keeps the configured size while 10,000 parts cover the object', () => {
    expect(choosePartSize(8 * MiB)).toBe(8 * MiB);
    expect(choosePartSize(8 * MiB, 0)).toBe(8 * MiB);
    expect(choosePartSize(8 * MiB, 78 * GiB)).toBe(8 * MiB);
    expect(choosePartSize(5 * MiB, 48 * GiB)).toBe(5 * MiB);
  });

  it('grows in whole MiB just enough for 10,000 parts, up to 5 GiB', () => {
    for (const size of [79 * GiB, 100 * GiB, 1024 * GiB, 5 * 1024 * GiB]) {
      const part = choosePartSize(8 * MiB, size);
      expect(part % MiB).toBe(0);
      expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
      expect(Math.ceil(size / (part - MiB))).toBeGreaterThan(10_000);
    }
    expect(choosePartSize(8 * MiB, 5 * 1024 * GiB)).toBeLessThanOrEqual(5 * GiB);
  });
});

describe('classify (the error mapping table)', () => {
  const table: [ErrorFacts, StoreErrorCode][] = [
    [{ name: 'NoSuchKey', status: 404 }, 'NotFound'],
    [{ name: 'NotFound', status: 404 }, 'NotFound'],
    [{ name: 'NoSuchBucket', status: 404 }, 'InvalidArgument'],
    [{ name: 'NoSuchUpload', status: 404 }, 'NotFound'],
    [{ status: 404 }, 'NotFound'],
    [{ name: 'PreconditionFailed', status: 412 }, 'PreconditionFailed'],
    [{ name: 'Unknown', status: 412 }, 'PreconditionFailed'],
    [{ name: 'ConditionalRequestConflict', status: 409 }, 'Conflict'],
    [{ name: 'BucketNotEmpty', status: 409 }, 'Conflict'],
    [{ name: 'AccessDenied', status: 403 }, 'PermissionDenied'],
    [{ name: 'InvalidAccessKeyId', status: 403 }, 'PermissionDenied'],
    [{ name: 'SignatureDoesNotMatch', status: 403 }, 'PermissionDenied'],
    [{ name: 'ExpiredToken', status: 400 }, 'PermissionDenied'],
    [{ name: 'CredentialsProviderError' }, 'PermissionDenied'],
    [{ name: 'Unknown', status: 403 }, 'PermissionDenied'],
    [{ name: 'InvalidArgument', status: 400 }, 'InvalidArgument'],
    [{ name: 'EntityTooSmall', status: 400 }, 'InvalidArgument'],
    [{ name: 'RequestTimeout', status: 400 }, 'Unavailable'],
    [{ name: 'BadDigest', status: 400 }, 'Integrity'],
    [{ name: 'InvalidRange', status: 416 }, 'InvalidArgument'],
    [{ name: 'InternalError', status: 500 }, 'Unavailable'],
    [{ name: 'ServiceUnavailable', status: 503 }, 'Unavailable'],
    [{ name: 'SlowDown', status: 503 }, 'Unavailable'],
    [{ status: 502 }, 'Unavailable'],
    [{ status: 429 }, 'Unavailable'],
    [{ name: 'Throttling' }, 'Unavailable'],
    [{ name: 'TimeoutError' }, 'Unavailable'],
    [{ errno: 'ECONNRESET' }, 'Unavailable'],
    [{ errno: 'ECONNREFUSED' }, 'Unavailable'],
    [{ errno: 'ETIMEDOUT' }, 'Unavailable'],
    [{ errno: 'ENOTFOUND' }, 'Unavailable'],
    [{ name: 'AbortError' }, 'Aborted'],
    [{ name: 'MethodNotAllowed', status: 405 }, 'Unsupported'],
    [{ name: 'NotImplemented', status: 501 }, 'Unsupported'],
    [{ name: 'Region is missing' }, 'InvalidArgument'],
    [{ name: 'SomethingNew' }, 'Internal'],
    [{}, 'Internal'],
  ];
  it.each(table)('%j → %s', (facts, code) => {
    expect(classify(facts)).toBe(code);
  });

  it('reads a failed create-only put as AlreadyExists and a conflicting compare-and-swap as PreconditionFailed', () => {
    expect(classify({ name: 'PreconditionFailed', status: 412 }, 'create')).toBe('AlreadyExists');
    expect(classify({ name: 'PreconditionFailed', status: 412 }, 'replace')).toBe('PreconditionFailed');
    expect(classify({ name: 'ConditionalRequestConflict', status: 409 }, 'replace')).toBe(
      'PreconditionFailed',
    );
    expect(classify({ name: 'ConditionalRequestConflict', status: 409 }, 'create')).toBe('Conflict');
    expect(classify({ name: 'NoSuchKey', status: 404 }, 'replace')).toBe('PreconditionFailed');
    expect(classify({ name: 'NoSuchBucket', status: 404 }, 'replace')).toBe('InvalidArgument');
  });
});

describe('toStoreError', () => {
  it('maps SDK exceptions, keeps them as cause and names the operation, key and what S3 said', () => {
    const sdk = new NoSuchKey({ message: 'The specified key does not exist.', $metadata: meta(404) });
    const err = toStoreError(sdk, { operation: 'get', key: 'a/b' });
    expect(err).toMatchObject({
      code: 'NotFound',
      operation: 'get',
      key: 'a/b',
      retryable: false,
      cause: sdk,
    });
    expect(err.message).toBe('get a/b: no such key: The specified key does not exist. (NoSuchKey, HTTP 404)');

    const bucket = toStoreError(new NoSuchBucket({ message: 'x', $metadata: meta(404) }), {
      operation: 'put',
      key: 'k',
      bucket: 'missing-bucket',
      store: 's3://missing-bucket/team',
    });
    expect(bucket.code).toBe('InvalidArgument');
    expect(bucket.message).toBe(
      'put k: the store s3://missing-bucket/team does not exist (no such bucket "missing-bucket"): x (NoSuchBucket, HTTP 404)',
    );
    const head = toStoreError(new NotFound({ message: 'UnknownError', $metadata: meta(404) }), {
      operation: 'head',
    });
    expect(head.message).toBe('head: no such key (NotFound, HTTP 404)');
  });

  it('marks throttling, 5xx and network errors retryable, and a missing host not', () => {
    const slow = new S3ServiceException({ name: 'SlowDown', $fault: 'server', $metadata: meta(503) });
    expect(toStoreError(slow, { operation: 'put' })).toMatchObject({ code: 'Unavailable', retryable: true });
    const reset = Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
    expect(toStoreError(reset, { operation: 'get' })).toMatchObject({ code: 'Unavailable', retryable: true });
    const dns = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), { code: 'ENOTFOUND' });
    expect(toStoreError(dns, { operation: 'get' })).toMatchObject({ code: 'Unavailable', retryable: false });
  });

  it.each([
    ['SlowDown', 503, true],
    ['SlowDownRead', 503, true],
    ['Throttling', 400, true],
    ['Unknown', 429, true],
    ['Unknown', 503, true], // a HEAD's SlowDown: no body, so no code
    ['Unknown', 500, false],
    ['ServiceUnavailable', 503, false],
    ['InternalError', 500, false],
  ] as const)('%s (HTTP %s) is throttling: %s, and Unavailable', (name, status, throttled) => {
    const sdk = new S3ServiceException({ name, $fault: 'server', $metadata: meta(status) });
    expect(toStoreError(sdk, { operation: 'get' })).toMatchObject({
      code: 'Unavailable',
      retryable: true,
      throttled,
    });
  });

  it('passes StoreErrors through and never shows a secret in the message', () => {
    const original = new StoreError('Integrity', 'bad');
    expect(toStoreError(original, { operation: 'put' })).toBe(original);
    const leaky = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: meta(403),
      message: 'denied for secretAccessKey=abc123XYZ',
    });
    const err = toStoreError(leaky, { operation: 'list' });
    expect(err.code).toBe('PermissionDenied');
    expect(err.message).not.toContain('abc123XYZ');
  });

  it('turns DeleteObjects per-key errors into StoreErrors', () => {
    expect(deleteEntryError('AccessDenied', 'Access Denied', 'k')).toMatchObject({
      code: 'PermissionDenied',
      operation: 'deleteMany',
      key: 'k',
    });
    expect(deleteEntryError('InternalError', undefined, 'k')).toMatchObject({
      code: 'Unavailable',
      retryable: true,
    });
  });
});

describe('options', () => {
  it('fills in defaults and turns conditional writes off for custom endpoints', () => {
    expect(resolveOptions({ bucket: 'b1x', prefix: '/models/llama/' }, false)).toEqual({
      bucket: 'b1x',
      keyPrefix: 'models/llama/',
      conditionalWrites: true,
      keyIsAlsoPrefix: true,
      partSize: 8 * MiB,
      multipartThreshold: 16 * MiB,
      concurrency: 4,
      listPageSize: 1000,
    });
    expect(resolveOptions({ bucket: 'b1x' }, true).conditionalWrites).toBe(false);
    expect(resolveOptions({ bucket: 'b1x', conditionalWrites: true }, true).conditionalWrites).toBe(true);
    expect(resolveOptions({ bucket: 'b1x', keyIsAlsoPrefix: false }, true).keyIsAlsoPrefix).toBe(false);
    expect(isCustomEndpoint(undefined)).toBe(false);
    expect(isCustomEndpoint('https://s3.eu-west-1.amazonaws.com')).toBe(false);
    expect(isCustomEndpoint('http://127.0.0.1:9000')).toBe(true);
  });

  it('rejects bad fields with InvalidArgument naming the field', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ bucket: '' }, 'bucket'],
      [{ bucket: 'b1x', partSize: 4 * MiB }, 'partSize'],
      [{ bucket: 'b1x', partSize: 6 * GiB }, 'partSize'],
      [{ bucket: 'b1x', concurrency: 0 }, 'concurrency'],
      [{ bucket: 'b1x', multipartThreshold: 1.5 }, 'multipartThreshold'],
      [{ bucket: 'b1x', listPageSize: 1001 }, 'listPageSize'],
      [{ bucket: 'b1x', prefix: 'a//b' }, 'a//b'],
    ];
    for (const [options, field] of bad) {
      const attempt = () => resolveOptions(options as never, false);
      expect(attempt).toThrow(field);
      try {
        attempt();
      } catch (err) {
        expect(StoreError.is(err, 'InvalidArgument')).toBe(true);
      }
    }
    expect(() => isCustomEndpoint('not a url')).toThrow('endpoint must be a URL');
  });
});

describe('wire helpers', () => {
  it('writes only a-b and a- ranges, never suffix ranges', () => {
    expect(rangeHeader(undefined)).toBeUndefined();
    expect(rangeHeader({ offset: 0 })).toBeUndefined();
    expect(rangeHeader({ offset: 10 })).toBe('bytes=10-');
    expect(rangeHeader({ offset: 0, length: 1 })).toBe('bytes=0-0');
    expect(rangeHeader({ offset: 5, length: 10 })).toBe('bytes=5-14');
  });

  it('parses Content-Range and quotes ETags', () => {
    expect(parseContentRange('bytes 3-10/11')).toEqual({ offset: 3, length: 8, total: 11 });
    expect(parseContentRange('bytes */11')).toBeUndefined();
    expect(parseContentRange(undefined)).toBeUndefined();
    expect(versionOf('"abc"', 'head', 'k')).toBe('"abc"');
    expect(versionOf('abc', 'head', 'k')).toBe('"abc"');
    expect(() => versionOf(undefined, 'head', 'k')).toThrow('no ETag');
  });
});

describe('BlockReader', () => {
  async function* chunks(...sizes: number[]) {
    let value = 0;
    for (const size of sizes) yield Uint8Array.from({ length: size }, () => value++ % 256);
  }

  it('cuts any chunking into equal blocks and a shorter last one', async () => {
    const reader = new BlockReader(chunks(3, 1, 7, 2, 5), 'k');
    const blocks: number[][] = [];
    for (let block = await reader.read(4); block.length > 0; block = await reader.read(4))
      blocks.push([...block]);
    expect(blocks.map((b) => b.length)).toEqual([4, 4, 4, 4, 2]);
    expect(blocks.flat()).toEqual(Array.from({ length: 18 }, (_, i) => i));
  });

  it('slices one large chunk without copying', async () => {
    const bytes = new Uint8Array(10);
    const reader = new BlockReader(
      (async function* () {
        yield bytes;
      })(),
      'k',
    );
    const block = await reader.read(4);
    expect(block.buffer).toBe(bytes.buffer);
  });

  it('rejects non-byte chunks and stops waiting for a stalled source when aborted', async () => {
    const strings = new BlockReader(
      (async function* () {
        yield 'text' as unknown as Uint8Array;
      })(),
      'k',
    );
    await expect(strings.read(4)).rejects.toThrow('not bytes');
    const controller = new AbortController();
    const stalled = new BlockReader(
      (async function* () {
        yield new Uint8Array(1);
        await new Promise(() => {});
      })(),
      'k',
    );
    const read = stalled.read(4, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await expect(read).rejects.toMatchObject({ code: 'Aborted' });
  });
});
