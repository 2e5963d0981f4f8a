import { describe, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { chunkParams, DEFAULT_CHUNKING } from '../../src/sync/chunking/options.js';

describe('chunkParams', () => {
  it('accepts the defaults and derives nested masks', () => {
    const p = chunkParams(DEFAULT_CHUNKING);
    const bits = Math.log2(DEFAULT_CHUNKING.avgSize);
    expect((p.maskStrict >>> 0).toString(2)).toBe('1'.repeat(bits + 2) + '0'.repeat(30 - bits));
    expect((p.maskLoose >>> 0).toString(2)).toBe('1'.repeat(bits - 2) + '0'.repeat(34 - bits));
    expect(p.maskStrict & p.maskLoose).toBe(p.maskLoose);
  });

  it.each([
    [{ avgSize: 100_000 }, 'avgSize', 'power of two'],
    [{ minSize: 256 * 1024 }, 'minSize', 'smaller than avgSize'],
    [{ maxSize: 64 * 1024 }, 'maxSize', 'larger than avgSize'],
    [{ zeroRunMin: 5000 }, 'zeroRunMin', 'multiple of 4096'],
    [{ minSize: 1.5 }, 'minSize', 'positive integer'],
    [{ maxSize: -1 }, 'maxSize', 'positive integer'],
  ])('rejects %o naming the field', (change, field, detail) => {
    const err = (() => {
      try {
        chunkParams({ ...DEFAULT_CHUNKING, ...change });
      } catch (e) {
        return e;
      }
    })();
    expect(StoreError.is(err, 'InvalidArgument')).toBe(true);
    expect((err as Error).message).toContain(field);
    expect((err as Error).message).toContain(detail);
  });
});
