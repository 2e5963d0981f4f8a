import { describe, expect, it } from 'vitest';
import { fsError } from '../src/errors.js';

const errno = (code: string) => Object.assign(new Error(`${code}: raw message /secret/path`), { code });

describe('fsError', () => {
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
      ['EWHATEVER', 'Internal', false],
    ];
    for (const [code, storeCode, retryable] of cases) {
      const cause = errno(code);
      const error = fsError(cause, 'put', 'a/b');
      expect([error.code, error.retryable], code).toEqual([storeCode, retryable]);
      expect(error.message.startsWith(`put a/b: ${code}`)).toBe(true);
      expect(error.cause).toBe(cause);
    }
  });

  it('passes StoreErrors through and reads AbortError as Aborted', () => {
    const inner = fsError(errno('ENOENT'), 'get', 'k');
    expect(fsError(inner, 'list', 'x')).toBe(inner);
    const abort = Object.assign(new Error('aborted'), { name: 'AbortError' });
    expect(fsError(abort, 'put', 'k').code).toBe('Aborted');
  });
});
