import assert from 'node:assert/strict';
import type { ByteRange } from '@ckpt/core';
import { type GroupTests, type TestContext, whenDeclared, whenNotDeclared } from '../define.js';
import { assertBytes, expectStored, getBytes } from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

const SIZE = 100_003;
const KEY = 'ranged/pages-1.img';

/** Gets `range` of the test object and checks bytes, `range` and `size` of the result. */
async function expectRange(ctx: TestContext, bytes: Buffer, range: ByteRange, key = KEY): Promise<void> {
  const what = `get ${JSON.stringify(range)} of a ${bytes.length}-byte object`;
  const start = Math.min(range.offset, bytes.length);
  const expected = bytes.subarray(start, range.length === undefined ? undefined : start + range.length);
  const { result, bytes: got } = await getBytes(ctx.store, key, { range });
  assertBytes(got, expected, what);
  assert.equal(result.size, bytes.length, `${what}: size is the whole object's`);
  assert.equal(result.range.length, expected.length, `${what}: range.length`);
  if (expected.length > 0) assert.equal(result.range.offset, range.offset, `${what}: range.offset`);
}

/** Ranged reads, only for stores that declare `rangedRead`. */
export const rangeTests: GroupTests = () => [
  {
    name: 'ranged reads return exactly the requested bytes',
    skipReason: whenDeclared('rangedRead'),
    async run(ctx) {
      const bytes = patternBytes(SIZE, 21);
      await ctx.store.put(KEY, bytes);
      for (const range of [
        { offset: 0 },
        { offset: 4096 },
        { offset: 1000, length: 4096 },
        { offset: 0, length: 1 },
        { offset: SIZE - 1, length: 1 },
        { offset: 0, length: SIZE },
      ]) {
        await expectRange(ctx, bytes, range);
      }
    },
  },
  {
    name: 'a range past the end yields the bytes that exist',
    skipReason: whenDeclared('rangedRead'),
    async run(ctx) {
      const bytes = patternBytes(SIZE, 22);
      await ctx.store.put(KEY, bytes);
      await expectRange(ctx, bytes, { offset: SIZE - 10, length: 100 });
      await expectRange(ctx, bytes, { offset: 5, length: SIZE });
      await expectRange(ctx, bytes, { offset: SIZE });
      await expectRange(ctx, bytes, { offset: SIZE + 100, length: 10 });
    },
  },
  {
    name: 'a zero-length range yields no bytes',
    skipReason: whenDeclared('rangedRead'),
    async run(ctx) {
      const bytes = patternBytes(SIZE, 23);
      await ctx.store.put(KEY, bytes);
      await ctx.store.put('ranged/empty', new Uint8Array(0));
      await expectRange(ctx, bytes, { offset: 10, length: 0 });
      await expectRange(ctx, bytes, { offset: 0, length: 0 });
      await expectRange(ctx, Buffer.alloc(0), { offset: 0 }, 'ranged/empty');
    },
  },
  {
    name: 'without rangedRead, a full get still returns every byte',
    skipReason: whenNotDeclared('rangedRead'),
    async run(ctx) {
      const bytes = patternBytes(SIZE, 24);
      await ctx.store.put(KEY, bytes);
      await expectStored(ctx, KEY, bytes);
    },
  },
];
