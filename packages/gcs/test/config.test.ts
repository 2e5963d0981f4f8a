import { StoreError, validateStoreConfig } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { parseStoreUrl } from '@ckpt/core/cli';
import { describe, expect, test } from 'vitest';
import { backend, GcsBackend } from '../src/index.js';
import { emulatorEndpoint, storageOptions } from '../src/options.js';

// no server: these only parse and validate
const registry = new BackendRegistry();
registry.register(backend);
const parse = async (url: string) => parseStoreUrl(url, { cwd: '/work/project', registry });
const validate = async (config: unknown) => validateStoreConfig(config, { cwd: '/srv/app', registry });
const message = (promise: Promise<unknown>) =>
  promise.then(
    () => 'resolved',
    (error: unknown) => (StoreError.is(error) ? error.message : String(error)),
  );

describe('gs URLs', () => {
  test('every query parameter', async () => {
    const url =
      'gs://ckpt/team/models/?projectId=my-project&apiEndpoint=http://127.0.0.1:4443' +
      '&resumableThreshold=1048576&chunkSize=524288&timeout=30s';
    expect(await parse(url)).toEqual({
      type: 'gcs',
      bucket: 'ckpt',
      prefix: 'team/models',
      projectId: 'my-project',
      apiEndpoint: 'http://127.0.0.1:4443',
      resumableThreshold: 1048576,
      chunkSize: 524288,
      timeout: '30s',
    });
  });

  test('bucket only', async () => {
    expect(await parse('gs://ckpt')).toEqual({ type: 'gcs', bucket: 'ckpt' });
  });

  test.each([
    ['gs://ckpt?foo=1', 'unknown query parameter "foo"'],
    ['gs://ckpt?chunkSize=1000', 'chunkSize: expected an integer from 262144'],
    ['gs://ckpt?chunkSize=300000', 'chunkSize: expected a multiple of 262144 (256 KiB)'],
    ['gs://ckpt?timeout=soon', 'timeout: expected a duration from 1ms to 1d'],
    ['gs://ckpt?timeout=0', 'timeout: expected a duration from 1ms to 1d'],
    ['gs://ckpt?idleTimeout=30s', 'unknown query parameter "idleTimeout"'],
    ['gs://ckpt?apiEndpoint=ftp://x', 'apiEndpoint: expected an http:// or https:// URL'],
  ])('%s is refused', async (url, expected) => {
    expect(await message(parse(url))).toContain(expected);
  });

  test('credentials never come from a URL', async () => {
    expect(await message(parse('gs://ckpt?credentials=x'))).not.toBe('resolved');
    expect(await message(parse('gs://ckpt?private_key=x'))).not.toBe('resolved');
  });
});

describe('gcs config', () => {
  test('a typo is an error naming the field', async () => {
    expect(await message(validate({ type: 'gcs', bucket: 'b', chunksize: 1 }))).toContain('chunksize');
  });

  test('a key file resolves against the config file folder; a key object is accepted', async () => {
    expect(await validate({ type: 'gcs', bucket: 'b', keyFilename: 'keys/sa.json' })).toMatchObject({
      keyFilename: '/srv/app/keys/sa.json',
    });
    const credentials = { client_email: 'a@b.iam.gserviceaccount.com', private_key: 'k', project_id: 'p' };
    expect(await validate({ type: 'gcs', bucket: 'b', credentials })).toMatchObject({ credentials });
  });
});

describe('client settings', () => {
  test("the SDK's retries are off and the endpoint comes from the option, else STORAGE_EMULATOR_HOST", () => {
    const none = storageOptions({ bucket: 'b' }, {});
    expect(none.retryOptions?.autoRetry).toBe(false);
    expect(none.apiEndpoint).toBeUndefined();
    expect(storageOptions({ bucket: 'b' }, { STORAGE_EMULATOR_HOST: 'localhost:4443' }).apiEndpoint).toBe(
      'http://localhost:4443',
    );
    expect(
      storageOptions({ bucket: 'b', apiEndpoint: 'http://x:1' }, { STORAGE_EMULATOR_HOST: 'y:2' })
        .apiEndpoint,
    ).toBe('http://x:1');
    expect(emulatorEndpoint('http://127.0.0.1:4443/storage/v1/')).toBe('http://127.0.0.1:4443');
  });

  test('options are checked', () => {
    expect(() => new GcsBackend({ bucket: 'b', chunkSize: 1000 })).toThrow(/chunkSize/);
    expect(() => new GcsBackend({ bucket: 'B!' })).toThrow(/bucket/);
    expect(new GcsBackend({ bucket: 'bkt', prefix: '/a/b/' }).name).toBe('gs://bkt/a/b');
  });
});
