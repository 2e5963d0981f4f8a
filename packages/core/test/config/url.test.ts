import { describe, expect, test } from 'vitest';
import { BackendRegistry, parseStoreUrl } from '../../src/config/index.js';
import { StoreError } from '../../src/errors.js';

const cwd = '/work/project';
const parse = (url: string) => parseStoreUrl(url, { cwd, registry: new BackendRegistry() });

/** The error `fn` throws; fails the test when it does not throw a StoreError. */
function errorOf(fn: () => unknown): StoreError {
  try {
    fn();
  } catch (err) {
    if (StoreError.is(err)) return err;
    throw err;
  }
  throw new Error('expected a StoreError');
}

describe('filesystem URLs and paths', () => {
  test.each([
    ['file:///var/lib/ckpt', '/var/lib/ckpt'],
    ['file://localhost/var/lib/ckpt', '/var/lib/ckpt'],
    ['file:///var/lib/my%20ckpt', '/var/lib/my ckpt'],
    ['FILE:///var/lib/ckpt', '/var/lib/ckpt'],
    ['file:rel/dir', '/work/project/rel/dir'],
    ['file:my%20dir', '/work/project/my dir'],
    ['file:/abs/dir', '/abs/dir'],
    ['./store', '/work/project/store'],
    ['../store', '/work/store'],
    ['/srv/store/', '/srv/store'],
    ['store', '/work/project/store'],
    ['.', '/work/project'],
  ])('%s → root %s', (url, root) => {
    expect(parse(url)).toEqual({ type: 'fs', root });
  });

  test.each([
    ['', 'store URL: expected a URL such as s3://bucket/prefix or a path'],
    [
      'file://host/dir',
      'store URL root: a file URL has no host: write file:///absolute/path or file:relative/path',
    ],
    ['file:', 'store URL root: expected file:relative/path or file:///absolute/path'],
    ['file:dir?x=1', 'store URL root: a file: URL has no query or #fragment (percent-encode "?" and "#")'],
    ['file:///dir?x=1', 'store URL: unknown query parameter "x"; allowed: none'],
    ['file:bad%zz', 'store URL root: malformed percent-encoding'],
  ])('%j is rejected', (url, message) => {
    const err = errorOf(() => parse(url));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(message);
  });
});

describe('a scheme that lost its colon or its slashes is refused, never taken as a local folder', () => {
  test.each([
    [
      's3//bucket/prefix',
      'store URL: "s3//…" looks like a URL missing its ":" (write s3://…, or ./s3//… for a local folder)',
    ],
    [
      'S3//bucket',
      'store URL: "s3//…" looks like a URL missing its ":" (write s3://…, or ./s3//… for a local folder)',
    ],
    [
      'az//container',
      'store URL: "az//…" looks like a URL missing its ":" (write az://…, or ./az//… for a local folder)',
    ],
    [
      'file//var/lib',
      'store URL: "file//…" looks like a URL missing its ":" (write file://…, or ./file//… for a local folder)',
    ],
    ['gs:/bucket', 'store URL: "gs:" must be followed by "//": gs://…'],
    ['s3:bucket', 'store URL: "s3:" must be followed by "//": s3://…'],
    ['az:/container/x', 'store URL: "az:" must be followed by "//": az://…'],
  ])('%s', (url, message) => {
    const err = errorOf(() => parse(url));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(message);
  });

  test('an explicit relative path, or a folder that is no scheme, is still a path', () => {
    expect(parse('./s3//bucket')).toEqual({ type: 'fs', root: '/work/project/s3/bucket' });
    expect(parse('s3/bucket')).toEqual({ type: 'fs', root: '/work/project/s3/bucket' });
    expect(parse('backups//x')).toEqual({ type: 'fs', root: '/work/project/backups/x' });
  });
});

describe('s3 URLs', () => {
  test('every query parameter', () => {
    const url =
      's3://ckpt/team/models/?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true' +
      '&checksums=when_required&conditionalWrites=false&partSize=8388608&concurrency=16';
    expect(parse(url)).toEqual({
      type: 's3',
      bucket: 'ckpt',
      prefix: 'team/models',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      checksums: 'when_required',
      conditionalWrites: false,
      partSize: 8388608,
      concurrency: 16,
    });
  });

  test('bucket only; case and encoded characters are kept', () => {
    expect(parse('s3://ckpt')).toEqual({ type: 's3', bucket: 'ckpt' });
    expect(parse('s3://ckpt/')).toEqual({ type: 's3', bucket: 'ckpt' });
    expect(parse('s3://Legacy_Bucket/a%20b/c')).toEqual({
      type: 's3',
      bucket: 'Legacy_Bucket',
      prefix: 'a b/c',
    });
  });

  test.each([
    ['s3:///prefix', 'store URL bucket: expected a non-empty string'],
    [
      's3://ckpt?foo=1',
      'store URL: unknown query parameter "foo"; allowed: region, endpoint, forcePathStyle, checksums, conditionalWrites, partSize, concurrency, connectTimeout, idleTimeout',
    ],
    ['s3://ckpt?region=a&region=b', 'store URL: query parameter "region" is given more than once'],
    ['s3://ckpt?region=', 'store URL region: expected a non-empty string'],
    ['s3://ckpt?forcePathStyle=yes', 'store URL forcePathStyle: expected true or false'],
    ['s3://ckpt?checksums=always', 'store URL checksums: expected "when_supported" or "when_required"'],
    [
      's3://ckpt?partSize=1024',
      'store URL partSize: expected an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)',
    ],
    [
      's3://ckpt?partSize=8MiB',
      'store URL partSize: expected an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)',
    ],
    ['s3://ckpt?concurrency=0', 'store URL concurrency: expected an integer from 1 to 1024'],
    ['s3://ckpt?endpoint=ftp://host', 'store URL endpoint: expected an http:// or https:// URL'],
    [
      's3://ckpt:9000/x',
      'store URL bucket: a port is not allowed in the bucket name; give the server as ?endpoint=',
    ],
    ['s3://ckpt/a/../b', 'store URL prefix: a "." or ".." path segment is not allowed'],
    [
      's3://ckpt/a%2F%2Fb',
      'store URL prefix: expected a key prefix such as "team/checkpoints" (key has an empty segment (// or a trailing /))',
    ],
    ['s3://ckpt/x#frag', 'store URL: a store URL has no #fragment'],
  ])('%s is rejected', (url, message) => {
    const err = errorOf(() => parse(url));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(message);
  });
});

describe('gs and az URLs', () => {
  test('gs://bucket/prefix', () => {
    expect(parse('gs://ckpt/prod')).toEqual({ type: 'gcs', bucket: 'ckpt', prefix: 'prod' });
    expect(parse('gs://ckpt?projectId=p1&apiEndpoint=http://localhost:4443')).toEqual({
      type: 'gcs',
      bucket: 'ckpt',
      projectId: 'p1',
      apiEndpoint: 'http://localhost:4443',
    });
  });

  test('az://container/prefix', () => {
    expect(parse('az://ckpt/prod/a?account=acct&endpoint=http://127.0.0.1:10000/devstoreaccount1')).toEqual({
      type: 'azure',
      container: 'ckpt',
      prefix: 'prod/a',
      account: 'acct',
      endpoint: 'http://127.0.0.1:10000/devstoreaccount1',
    });
  });

  test.each([
    ['gs://ckpt?region=x', 'store URL: unknown query parameter "region"; allowed: projectId, apiEndpoint'],
    ['az://?account=a', 'store URL container: expected a non-empty string'],
    ['az://ckpt?container=x', 'store URL: unknown query parameter "container"; allowed: account, endpoint'],
  ])('%s is rejected', (url, message) => {
    expect(errorOf(() => parse(url)).message).toBe(message);
  });
});

describe('schemes', () => {
  test('an unknown scheme lists the known ones', () => {
    expect(errorOf(() => parse('ftp://host/x')).message).toBe(
      'store URL: unknown scheme "ftp:"; known: az:, file:, gs:, s3: or a path',
    );
  });

  test('a malformed URL of a known scheme', () => {
    expect(errorOf(() => parse('s3://ckpt x/y')).message).toBe('store URL: not a valid s3: URL');
  });
});

describe('credentials are never taken from URLs', () => {
  const SECRET = 'wJalrXUtnFEMI-K7MDENG-SECRETVALUE';
  test.each([
    [`s3://AKIAEXAMPLE:${SECRET}@ckpt/prefix`, 'user:password@'],
    [`s3://user:${SECRET}@ckpt`, 'user:password@'],
    [`s3://${SECRET}@ckpt`, 'user:password@'],
    [`s3://ckpt?secretAccessKey=${SECRET}`, 'the "secretAccessKey" parameter'],
    [`s3://ckpt?accessKeyId=AKIA&region=x`, 'the "accessKeyId" parameter'],
    [`s3://ckpt?sessionToken=${SECRET}`, 'the "sessionToken" parameter'],
    [`s3://ckpt?X-Amz-Signature=${SECRET}`, 'the "X-Amz-Signature" parameter'],
    [`az://ckpt?sv=2022-11-02&sig=${SECRET}`, 'the "sig" parameter'],
    [`az://ckpt?accountKey=${SECRET}`, 'the "accountKey" parameter'],
    [`az://ckpt?connectionString=AccountKey%3D${SECRET}`, 'the "connectionString" parameter'],
    [`az://ckpt?sasToken=${SECRET}`, 'the "sasToken" parameter'],
    [`gs://ckpt?token=${SECRET}`, 'the "token" parameter'],
  ])('%s', (url, what) => {
    const err = errorOf(() => parse(url));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(
      `store URL: credentials are never taken from URLs (remove ${what}); use the SDK's default credential chain, environment variables or the config file`,
    );
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain('AKIA');
  });
});
