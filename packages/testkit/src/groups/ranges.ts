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
    name: 'a get into a caller buffer yields the bytes, in place when it uses the buffer',
    async run(ctx) {
      const bytes = patternBytes(SIZE, 25);
      await ctx.store.put(KEY, bytes);
      const range = ctx.store.capabilities.rangedRead ? { offset: 777, length: 50_000 } : undefined;
      const expected = range ? bytes.subarray(777, 50_777) : bytes;
      // shared memory at an offset, as the engine passes it; the space around it must stay zero
      const shared = new Uint8Array(new SharedArrayBuffer(expected.length + 8192));
      for (const into of [shared.subarray(4096, 4096 + expected.length), shared.subarray(4096, 4106)]) {
        const what = `get ${JSON.stringify(range ?? 'whole')} into ${into.length} bytes`;
        const pieces: Buffer[] = [];
        let at = 0;
        for await (const piece of (await ctx.store.get(KEY, { range, into })).body as AsyncIterable<Buffer>) {
          if (piece.buffer === shared.buffer) {
            assert.ok(into.length >= expected.length, `${what}: a buffer too small for the range was used`);
            assert.equal(piece.byteOffset - into.byteOffset, at, `${what}: a piece is not at its position`);
          }
          pieces.push(Buffer.from(piece));
          at += piece.length;
        }
        assertBytes(Buffer.concat(pieces), expected, what);
        const outside = [shared.subarray(0, 4096), shared.subarray(4096 + into.length)];
        assert.ok(
          outside.every((part) => part.every((b) => b === 0)),
          `${what}: bytes written outside it`,
        );
        shared.fill(0);
      }
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
