import { validateStoreConfig } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { parseStoreUrl } from '@ckpt/core/cli';
import { describe, expect, test } from 'vitest';
import { backend } from '../src/index.js';
import { rejection } from './helpers.js';

// no server: these only parse and validate
const registry = new BackendRegistry();
registry.register(backend);
const parse = async (url: string) => parseStoreUrl(url, { cwd: '/work/project', registry });
const validate = async (config: unknown) => validateStoreConfig(config, { cwd: '/srv/app', registry });

describe('s3 URLs', () => {
  test('every query parameter', async () => {
    const url =
      's3://ckpt/team/models/?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true' +
      '&checksums=when_required&conditionalWrites=false&partSize=8388608&multipartThreshold=0&concurrency=16' +
      '&connectTimeout=5s&timeout=1m';
    expect(await parse(url)).toEqual({
      type: 's3',
      bucket: 'ckpt',
      prefix: 'team/models',
      region: 'eu-west-1',
      endpoint: 'http://127.0.0.1:9000',
      forcePathStyle: true,
      checksums: 'when_required',
      conditionalWrites: false,
      partSize: 8388608,
      multipartThreshold: 0,
      concurrency: 16,
      connectTimeout: '5s',
      timeout: '1m',
    });
  });

  test('bucket only; case and encoded characters are kept', async () => {
    expect(await parse('s3://ckpt')).toEqual({ type: 's3', bucket: 'ckpt' });
    expect(await parse('s3://ckpt/')).toEqual({ type: 's3', bucket: 'ckpt' });
    expect(await parse('s3://Legacy_Bucket/a%20b/c')).toEqual({
      type: 's3',
      bucket: 'Legacy_Bucket',
      prefix: 'a b/c',
    });
  });

  test.each([
    ['s3:///prefix', 'store URL bucket: expected a non-empty string'],
    [
      's3://ckpt?foo=1',
      'store URL: unknown query parameter "foo"; allowed: region, endpoint, forcePathStyle, checksums, conditionalWrites, partSize, multipartThreshold, concurrency, connectTimeout, timeout',
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
    ['s3://ckpt?timeout=60', 'store URL timeout: expected a duration from 1ms to 1d such as "30s" or "2m"'],
    ['s3://ckpt?timeout=0s', 'store URL timeout: expected a duration from 1ms to 1d such as "30s" or "2m"'],
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
  ])('%s is rejected', async (url, message) => {
    const err = await rejection(parse(url));
    expect(err.code).toBe('InvalidArgument');
    expect(err.message).toBe(message);
  });
});

describe('s3 configs', () => {
  test.each([
    [{ type: 's3', bucket: 'ckpt' }],
    [
      {
        type: 's3',
        bucket: 'ckpt',
        prefix: 'prod/models',
        region: 'eu-west-1',
        endpoint: 'https://s3.example.com',
        forcePathStyle: true,
        checksums: 'when_supported',
        conditionalWrites: true,
        partSize: 64 * 1024 * 1024,
        concurrency: 8,
        connectTimeout: '10s',
        timeout: '60s',
        credentials: { accessKeyId: 'AKIA', secretAccessKey: 'secret', sessionToken: 'token' },
      },
    ],
  ])('valid: %j', async (config) => {
    expect(await validate(config)).toEqual(config);
  });

  test.each([
    [{ type: 's3' }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', bucket: '' }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', bucket: 7 }, 'store.bucket', 'config store.bucket: expected a non-empty string'],
    [{ type: 's3', buckt: 'ckpt' }, 'store', 'config store: unknown key "buckt" (did you mean "bucket"?)'],
    [
      { type: 's3', bucket: 'b', partSize: 6_000_000.5 },
      'store.partSize',
      'config store.partSize: expected an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)',
    ],
    [
      { type: 's3', bucket: 'b', prefix: 'a//b' },
      'store.prefix',
      'config store.prefix: expected a key prefix such as "team/checkpoints" (key has an empty segment (// or a trailing /))',
    ],
    [
      { type: 's3', bucket: 'b', credentials: { accessKeyId: 'AKIA', secretAccessKey: '' } },
      'store.credentials["secretAccessKey"]',
      'config store.credentials["secretAccessKey"]: expected a non-empty string',
    ],
  ])('one readable line per invalid config: %j', async (config, key, message) => {
    const err = await rejection(validate(config));
    expect(err.code).toBe('InvalidArgument');
    expect(err.key).toBe(key);
    expect(err.message).toBe(message);
  });

  test('secrets are never repeated in validation errors', async () => {
    const SECRET = 'wJalrXUtnFEMI-SECRETVALUE';
    for (const credentials of [
      { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 5, sessionToken: SECRET },
      { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: SECRET, extra: SECRET },
      SECRET,
    ]) {
      const err = await rejection(validate({ type: 's3', bucket: 'b', credentials }));
      expect(err.message).not.toContain(SECRET);
      expect(err.message).not.toContain('AKIAEXAMPLE');
    }
  });
});
