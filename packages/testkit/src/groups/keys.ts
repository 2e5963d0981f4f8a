import assert from 'node:assert/strict';
import { StoreError } from '@ckpt/core';
import { type GroupTests, type TestContext, whenDeclared, whenNotDeclared } from '../define.js';
import { expectAbsent, expectKeys, expectStored, listKeys } from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

/** Valid keys that trip up URL encoding, filesystems and Unicode handling. */
const AWKWARD_KEYS = [
  'with space/pages 1.img',
  'ünïcödé/日本語/😀.img',
  'nfd/cafe\u0301',
  'percent/%2F%00%zz',
  'url/a+b=c&d?e#f',
  `punct/!$'()*,;@[]{}~^\`|<>":`,
  '.hidden/.dotfile',
  '-dash/_under',
  'tmp.part',
];

/** 255 bytes of `char` (1 or 3 UTF-8 bytes each). */
function segment(char: 'x' | '日', bytes = 255): string {
  return char.repeat(bytes / Buffer.byteLength(char));
}

/** Puts each key with its own bytes, then checks every one round-trips and nothing else exists. */
async function roundTrip(ctx: TestContext, keys: string[]): Promise<void> {
  for (const [i, key] of keys.entries()) await ctx.store.put(key, patternBytes(10 + i, 70 + i));
  for (const [i, key] of keys.entries()) {
    await expectStored(ctx, key, patternBytes(10 + i, 70 + i), JSON.stringify(key));
    assert.equal((await ctx.store.head(key)).key, key, `head returns the key ${JSON.stringify(key)}`);
  }
  await expectKeys(ctx, keys, 'the stored keys');
}

/** Unicode, punctuation, nesting, length limits, keys that are also prefixes. */
export const keyTests: GroupTests = () => [
  {
    name: 'unicode, spaces and punctuation round-trip unchanged',
    async run(ctx) {
      await roundTrip(ctx, AWKWARD_KEYS);
    },
  },
  {
    name: 'deeply nested keys round-trip',
    async run(ctx) {
      const deep = Array.from({ length: 60 }, (_, i) => `d${i}`).join('/');
      await roundTrip(ctx, [`${deep}/core-1.img`, `${deep}/core-2.img`, 'rootfs/root/.cache/triton/ab/c.so']);
    },
  },
  {
    name: 'accepts long keys (896 bytes) and 255-byte segments, ASCII and multi-byte',
    async run(ctx) {
      // 896 bytes leave room for a store prefix of up to 128 bytes within the backends' 1024
      const ascii = [segment('x'), segment('x'), segment('x'), 'z'.repeat(128)].join('/');
      const wide = [segment('日'), segment('日'), segment('日'), 'z'.repeat(128)].join('/');
      assert.equal(Buffer.byteLength(ascii), 896);
      assert.equal(Buffer.byteLength(wide), 896);
      await roundTrip(ctx, [ascii, wide, `seg/${segment('x')}`, `seg/${segment('日')}`]);
    },
  },
  {
    name: "a 1024-byte key round-trips, or fails InvalidArgument when the store's prefix leaves no room",
    async run(ctx) {
      const key = [segment('x'), segment('x'), segment('x'), segment('x', 254), 'z'].join('/');
      assert.equal(Buffer.byteLength(key), 1024);
      const stored = await ctx.store.put(key, patternBytes(9, 79)).then(
        () => true,
        (error: unknown) => {
          assert.ok(StoreError.is(error, 'InvalidArgument'), `put of a 1024-byte key: ${error}`);
          return false;
        },
      );
      if (stored) await expectStored(ctx, key, patternBytes(9, 79), 'the 1024-byte key');
      await expectKeys(ctx, stored ? [key] : [], 'after the put of a 1024-byte key');
    },
  },
  {
    name: 'keys that share a folder or a stem stay separate',
    async run(ctx) {
      await roundTrip(ctx, ['ckpt/a', 'ckpt/b', 'ckpt-a', 'ckpta', 'ckpt/a.img', 'ckpt/a-b']);
      await ctx.store.delete('ckpt/a');
      await expectAbsent(ctx, 'ckpt/a');
      assert.deepEqual(
        await listKeys(ctx.store, 'ckpt/'),
        ['ckpt/a-b', 'ckpt/a.img', 'ckpt/b'],
        'the siblings stay',
      );
    },
  },
  {
    name: 'with keyIsAlsoPrefix, a key and the keys below it coexist',
    skipReason: whenDeclared('keyIsAlsoPrefix'),
    async run(ctx) {
      await ctx.store.put('ckpt/a', patternBytes(5, 80));
      await ctx.store.put('ckpt', patternBytes(6, 81));
      await ctx.store.put('ckpt/a/b', patternBytes(7, 82));
      await expectKeys(ctx, ['ckpt', 'ckpt/a', 'ckpt/a/b'], 'a key, its child and grandchild');
      await ctx.store.delete('ckpt/a');
      await expectAbsent(ctx, 'ckpt/a');
      await expectStored(ctx, 'ckpt', patternBytes(6, 81));
      await expectStored(ctx, 'ckpt/a/b', patternBytes(7, 82));
      await expectKeys(ctx, ['ckpt', 'ckpt/a/b'], 'after deleting the middle key');
    },
  },
  {
    name: 'without keyIsAlsoPrefix, a key that is also a prefix fails cleanly or works, never corrupts',
    skipReason: whenNotDeclared('keyIsAlsoPrefix'),
    async run(ctx) {
      for (const [first, second] of [
        ['parent/child', 'parent'],
        ['leaf', 'leaf/below'],
      ] as const) {
        await ctx.store.put(first, patternBytes(5, 83));
        const stored = await ctx.store.put(second, patternBytes(6, 84)).then(
          () => true,
          (error: unknown) => {
            assert.ok(
              StoreError.is(error),
              `put ${second} after ${first}: fails with a StoreError: ${error}`,
            );
            return false;
          },
        );
        await expectStored(ctx, first, patternBytes(5, 83), `${first} after a put of ${second}`);
        if (stored) await expectStored(ctx, second, patternBytes(6, 84));
        else await expectAbsent(ctx, second);
      }
    },
  },
];
