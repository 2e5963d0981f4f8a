import { describe, expect, test } from 'vitest';
import { BackendRegistry, parseStoreUrl } from '../../src/config/index.js';
import { storeErrorOf } from './helpers.js';
import { testRegistry } from './memory-backend.js';

const cwd = '/work/project';
const parse = (url: string, registry = testRegistry()) => parseStoreUrl(url, { cwd, registry });

/** The InvalidArgument message parsing `url` fails with. */
async function rejected(url: string, registry?: BackendRegistry): Promise<string> {
  const err = await storeErrorOf(() => parse(url, registry));
  expect(err.code).toBe('InvalidArgument');
  return err.message;
}

describe('a local path is the file: URL of its absolute path, for the backend that owns file:', () => {
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
    ['./a #b?c%20d', '/work/project/a #b?c%20d'],
  ])('%s → root %s', async (url, root) => {
    expect(await parse(url)).toEqual({ type: 'fs', root });
  });

  test.each([
    ['', 'store URL: expected a URL such as s3://bucket/prefix or a path'],
    ['file:', 'store URL path: expected file:relative/path or file:///absolute/path'],
    ['file:dir?x=1', 'store URL path: a file: URL has no query or #fragment (percent-encode "?" and "#")'],
    ['file:bad%zz', 'store URL path: malformed percent-encoding'],
    ['file:///a/../b', 'store URL prefix: a "." or ".." path segment is not allowed'],
  ])('%j is rejected', async (url, message) => {
    expect(await rejected(url)).toBe(message);
  });

  test('without a backend for file:, a path is an error', async () => {
    const registry = new BackendRegistry({ builtins: {} });
    expect(await rejected('./store', registry)).toBe(
      'store URL: no backend opens local paths (none owns "file:" URLs)',
    );
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
  ])('%s', async (url, message) => {
    // before any adapter package is imported: none is needed to refuse these
    expect(await rejected(url, new BackendRegistry())).toBe(message);
  });

  test('an explicit relative path, or a folder that is no scheme, is still a path', async () => {
    expect(await parse('./s3//bucket')).toEqual({ type: 'fs', root: '/work/project/s3/bucket' });
    expect(await parse('s3/bucket')).toEqual({ type: 'fs', root: '/work/project/s3/bucket' });
    expect(await parse('backups//x')).toEqual({ type: 'fs', root: '/work/project/backups/x' });
  });
});

describe('schemes', () => {
  test('an unknown scheme lists the known ones', async () => {
    expect(await rejected('ftp://host/x', new BackendRegistry())).toBe(
      'store URL: unknown scheme "ftp:"; known: az:, file:, gs:, s3: or a path',
    );
    expect(await rejected('ftp://host/x')).toBe(
      'store URL: unknown scheme "ftp:"; known: az:, file:, gs:, mem:, s3: or a path',
    );
  });

  test('a malformed URL of a known scheme', async () => {
    expect(await rejected('s3://ckpt x/y', new BackendRegistry())).toBe('store URL: not a valid s3: URL');
  });

  test('a URL the backend rejects with a plain Error is an InvalidArgument naming the backend', async () => {
    const registry = testRegistry();
    registry.register({
      ...registry.get('memory')!,
      type: 'picky',
      schemes: ['picky'],
      fromUrl: () => {
        throw new Error('no such thing');
      },
    });
    expect(await rejected('picky://x', registry)).toBe(
      'store URL: the picky backend rejected the URL: no such thing',
    );
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
  ])('%s', async (url, what) => {
    // refused before the backend's package is imported: the secret never reaches it
    const message = await rejected(url, new BackendRegistry());
    expect(message).toBe(
      `store URL: credentials are never taken from URLs (remove ${what}); use the SDK's default credential chain, environment variables or the config file`,
    );
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('AKIA');
  });
});
