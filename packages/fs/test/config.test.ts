import { validateStoreConfig } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { parseStoreUrl } from '@ckpt/core/cli';
import { describe, expect, test } from 'vitest';
import { backend } from '../src/index.js';
import { expectCode } from './helpers.js';

const cwd = '/work/project';
const registry = new BackendRegistry();
registry.register(backend);
const parse = async (url: string) => parseStoreUrl(url, { cwd, registry });
const validate = async (config: unknown) => validateStoreConfig(config, { cwd: '/srv/app', registry });

describe('file URLs and local paths become fs configs', () => {
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
    ['./odd #?%name', '/work/project/odd #?%name'],
    ['./s3//bucket', '/work/project/s3/bucket'],
  ])('%s → root %s', async (url, root) => {
    expect(await parse(url)).toEqual({ type: 'fs', root });
  });

  test.each([
    [
      'file://host/dir',
      'store URL root: a file URL has no host: write file:///absolute/path or file:relative/path',
    ],
    ['file:///dir?x=1', 'store URL: unknown query parameter "x"; allowed: none'],
  ])('%j is rejected', async (url, message) => {
    const err = await expectCode(parse(url), 'InvalidArgument');
    expect(err.message).toBe(message);
  });
});

describe('fs configs', () => {
  test('an absolute root is kept, a relative one resolves against cwd', async () => {
    expect(await validate({ type: 'fs', root: '/var/lib/ckpt' })).toEqual({
      type: 'fs',
      root: '/var/lib/ckpt',
    });
    expect(await validate({ type: 'fs', root: 'data/store' })).toEqual({
      type: 'fs',
      root: '/srv/app/data/store',
    });
  });

  test.each([
    [{ type: 'fs', root: '' }, 'config store.root: expected a non-empty string'],
    [{ type: 'fs', root: '/x', bucket: 'b' }, 'config store: unknown key "bucket"; allowed keys: type, root'],
  ])('one readable line per invalid config: %j', async (config, message) => {
    const err = await expectCode(validate(config), 'InvalidArgument');
    expect(err.message).toBe(message);
  });
});
