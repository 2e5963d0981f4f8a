import { describe, expect, it } from 'vitest';
import { StoreError } from '../src/errors.js';
import {
  compareKeys,
  dirPrefix,
  joinKey,
  keyProblem,
  MAX_KEY_BYTES,
  MAX_SEGMENT_BYTES,
  normalizePrefix,
  validateKey,
} from '../src/keys.js';

describe('keyProblem', () => {
  it.each([
    'a',
    'models/llama-3/images/pages-1.img',
    'rootfs/.cache/triton/abc',
    'ghost-file-1.img',
    '..hidden/x',
    'a/.b',
    'é/日本語/😀',
    'a b/c',
    'x'.repeat(MAX_SEGMENT_BYTES),
    `${'a/'.repeat(511)}b`, // 1023 bytes
  ])('accepts %j', (key) => {
    expect(keyProblem(key)).toBeUndefined();
  });

  it.each([
    ['', 'empty'],
    ['/a', 'starts with /'],
    ['a/', 'empty segment'],
    ['a//b', 'empty segment'],
    ['.', '"." segment'],
    ['a/../b', '".." segment'],
    ['a./b', 'ends with "."'],
    ['a/b.', 'ends with "."'],
    ['a\\b', 'backslash'],
    ['a\nb', 'control character'],
    ['a\u0000', 'control character'],
    ['a\u007f', 'control character'],
    ['a\u0085', 'control character'],
    ['x'.repeat(MAX_SEGMENT_BYTES + 1), 'segment is longer than 255'],
    ['é'.repeat(128), 'segment is longer than 255'], // 256 UTF-8 bytes, 128 characters
    [`${'abcdefgh/'.repeat(113)}abcdefgh`, `longer than ${MAX_KEY_BYTES}`], // 1025 bytes
  ])('rejects %j (%s)', (key, why) => {
    expect(keyProblem(key)).toContain(why);
  });

  it('rejects a non-string', () => {
    expect(keyProblem(undefined as unknown as string)).toBe('key is empty');
  });
});

describe('validateKey', () => {
  it('returns a valid key unchanged', () => {
    expect(validateKey('a/b')).toBe('a/b');
  });

  it('throws InvalidArgument naming the operation, the quoted key and the problem', () => {
    const error = (() => {
      try {
        validateKey('a//b', 'put');
      } catch (e) {
        return e;
      }
    })();
    expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    expect((error as StoreError).message).toBe('put "a//b": key has an empty segment (// or a trailing /)');
    expect(() => validateKey('')).toThrow(/^key "": key is empty$/);
  });
});

describe('normalizePrefix', () => {
  it.each([
    [undefined, ''],
    ['', ''],
    ['/', ''],
    ['//', ''],
    ['a', 'a'],
    ['/a', 'a'],
    ['a/', 'a/'],
    ['/a//', 'a/'],
    ['models/ab', 'models/ab'],
    ['models/ab.', 'models/ab.'], // the start of models/ab.c
    ['rootfs/.', 'rootfs/.'], // the start of rootfs/.cache
    ['rootfs/..', 'rootfs/..'], // the start of rootfs/..x
    ['é/日', 'é/日'],
  ])('%j → %j', (input, expected) => {
    expect(normalizePrefix(input)).toBe(expected);
  });

  it.each([
    'a//b',
    'a/./b',
    'a/../b',
    'a./',
    'rootfs/./',
    'a\\b',
    'x\u0001',
    `${'x'.repeat(MAX_SEGMENT_BYTES + 1)}/`,
  ])('rejects %j, which no key can start with', (prefix) => {
    expect(() => normalizePrefix(prefix, 'list')).toThrow(
      expect.objectContaining({
        code: 'InvalidArgument',
        message: expect.stringContaining(`list ${JSON.stringify(prefix)}`),
      }),
    );
  });
});

describe('dirPrefix', () => {
  it.each([
    ['', ''],
    ['/', ''],
    ['a', 'a/'],
    ['a/b', 'a/b/'],
    ['a/b/', 'a/b/'],
    ['/a/b//', 'a/b/'],
  ])('%j → %j', (input, expected) => {
    expect(dirPrefix(input)).toBe(expected);
  });

  it('rejects a folder name that cannot be a key', () => {
    expect(() => dirPrefix('a/../b')).toThrow(expect.objectContaining({ code: 'InvalidArgument' }));
  });
});

describe('joinKey', () => {
  it('joins with single slashes and skips empty parts', () => {
    expect(joinKey('a', 'b', 'c')).toBe('a/b/c');
    expect(joinKey('/a/', '', '/b//', 'c/')).toBe('a/b/c');
    expect(joinKey('models/x/', 'images/pages-1.img')).toBe('models/x/images/pages-1.img');
    expect(joinKey()).toBe('');
    expect(joinKey('', '/')).toBe('');
  });
});

describe('compareKeys', () => {
  it('orders by UTF-8 bytes, not by UTF-16 code units', () => {
    // U+FF61 is EF BD A1 in UTF-8, U+1F600 is F0 9F 98 80: bytes put the emoji last,
    // while JavaScript's default string order (UTF-16: FF61 vs D83D) puts it first
    expect(compareKeys('\uff61', '😀')).toBeLessThan(0);
    expect('\uff61' < '😀').toBe(false);
    const keys = ['😀', 'z', 'é', 'a/b', 'a', '\uff61', 'a-b', 'A', '日本'];
    expect([...keys].sort(compareKeys)).toEqual(['A', 'a', 'a-b', 'a/b', 'z', 'é', '日本', '\uff61', '😀']);
  });

  it('returns 0 only for equal keys and is antisymmetric', () => {
    expect(compareKeys('é', 'é')).toBe(0);
    expect(compareKeys('é', 'e\u0301')).not.toBe(0); // no Unicode normalisation
    expect(Math.sign(compareKeys('a', 'ab'))).toBe(-1);
    expect(Math.sign(compareKeys('ab', 'a'))).toBe(1);
  });
});
