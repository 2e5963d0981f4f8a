import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/config/sizes.js';

describe('parseSize', () => {
  it.each([
    ['3GiB', 3 * 2 ** 30],
    ['512MiB', 512 * 2 ** 20],
    ['8m', 8 * 2 ** 20],
    ['1.5 GB', 1.5e9],
    ['4096', 4096],
    ['10KB', 10_000],
  ])('reads %s', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'big', '-1MiB', '3 GiBs'])('rejects %j', (text) => {
    expect(() => parseSize(text, '--size')).toThrow(/--size must be a size/);
  });
});
