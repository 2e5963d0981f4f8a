import { describe, expect, it } from 'vitest';
import { errnoError } from '../src/errno.js';

const errno = (code: string) => Object.assign(new Error(`${code}: raw message /secret/path`), { code });

describe('errnoError', () => {
  it('maps errno codes to StoreError codes, naming operation and key, keeping the cause', () => {
    const cases: [string, string, boolean][] = [
      ['ENOENT', 'NotFound', false],
      ['EACCES', 'PermissionDenied', false],
      ['EPERM', 'PermissionDenied', false],
      ['EROFS', 'PermissionDenied', false],
      ['EEXIST', 'AlreadyExists', false],
      ['ENOTDIR', 'InvalidArgument', false],
      ['EISDIR', 'InvalidArgument', false],
      ['ENOSPC', 'Unavailable', false],
      ['EDQUOT', 'Unavailable', false],
      ['EXDEV', 'Unsupported', false],
      ['EIO', 'Unavailable', true],
      ['EMFILE', 'Unavailable', true],
      ['ECONNRESET', 'Unavailable', true],
    ];
    for (const [code, storeCode, retryable] of cases) {
      const cause = errno(code);
      const error = errnoError(cause, 'put', 'a/b');
      expect([error?.code, error?.retryable], code).toEqual([storeCode, retryable]);
      expect(error?.message.startsWith(`put a/b: ${code}`)).toBe(true);
      expect(error?.cause).toBe(cause);
    }
  });

  it('leaves errors without a known errno code to the caller', () => {
    expect(errnoError(errno('EWHATEVER'), 'put', 'k')).toBeUndefined();
    expect(errnoError(new Error('plain'), 'put', 'k')).toBeUndefined();
    expect(errnoError(Object.assign(new Error('sdk'), { code: 'NoSuchKey' }), 'get', 'k')).toBeUndefined();
  });
});
