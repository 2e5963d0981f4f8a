import assert from 'node:assert/strict';
import type { GroupTests } from '../define.js';
import { byteOrder, expectKeys, listAll, listKeys } from '../util/checks.js';
import { forEachLimit } from '../util/limit.js';
import { patternBytes } from '../util/pattern.js';

/**
 * Byte order differs from both `localeCompare` and JavaScript's default (UTF-16) sort here:
 * `a-b` < `a.b` < `a/b` < `a0` (a directory walk puts `a/b` first), `Z` < `a`, and `Ａ` (U+FF21)
 * < `😀` (U+1F600) in UTF-8 although its UTF-16 code unit is larger.
 */
const ORDER_KEYS = ['a-b', 'a.b', 'a/b', 'a/c/d/e/f/g.img', 'a0', 'Z', 'é', 'Ａ', '😀', '日本/語', '~tilde'];
/** How many keys the pagination test lists: more than one page (1000) of S3, GCS and Azure. */
const MANY = 1150;

/** `list`: byte order, prefixes, `startAfter`, pagination, read-after-write. */
export const listTests: GroupTests = () => [
  {
    name: 'lists every key with its size in byte order, non-ASCII and nested keys included',
    async run(ctx) {
      assert.deepEqual(await listKeys(ctx.store), [], 'a new store lists nothing');
      for (const [i, key] of ORDER_KEYS.entries()) await ctx.store.put(key, patternBytes(i, 31));
      const listed = await listAll(ctx.store);
      const expected = byteOrder(ORDER_KEYS);
      assert.deepEqual(
        listed.map((m) => m.key),
        expected,
        'keys in byte order',
      );
      for (const meta of listed) assert.equal(meta.size, ORDER_KEYS.indexOf(meta.key), `size of ${meta.key}`);
      await expectKeys(ctx, ORDER_KEYS, 'the store');
    },
  },
  {
    name: 'a prefix is a plain string prefix, not a folder',
    async run(ctx) {
      const keys = ['models/a/x.img', 'models/ab/y.img', 'models/b.img', 'other/a.img'];
      for (const key of keys) await ctx.store.put(key, patternBytes(1, 32));
      assert.deepEqual(
        await listKeys(ctx.store, 'models/a'),
        ['models/a/x.img', 'models/ab/y.img'],
        'models/a',
      );
      assert.deepEqual(await listKeys(ctx.store, 'models/a/'), ['models/a/x.img'], 'models/a/');
      assert.deepEqual(await listKeys(ctx.store, 'models/'), keys.slice(0, 3), 'models/');
      assert.deepEqual(await listKeys(ctx.store, 'models/b.img'), ['models/b.img'], 'a whole key as prefix');
      assert.deepEqual(await listKeys(ctx.store, 'nothing'), [], 'a prefix that matches nothing');
      assert.deepEqual(await listKeys(ctx.store, ''), keys, 'the empty prefix');
      assert.deepEqual(await listKeys(ctx.store), keys, 'no prefix');
    },
  },
  {
    name: 'startAfter yields only keys after it, with or without a prefix',
    async run(ctx) {
      const keys = ['m/1', 'm/2', 'm/3', 'n/1'];
      for (const key of keys) await ctx.store.put(key, patternBytes(1, 33));
      assert.deepEqual(
        await listKeys(ctx.store, '', { startAfter: 'm/1' }),
        ['m/2', 'm/3', 'n/1'],
        'after m/1',
      );
      assert.deepEqual(
        await listKeys(ctx.store, 'm/', { startAfter: 'm/2' }),
        ['m/3'],
        'prefix m/, after m/2',
      );
      assert.deepEqual(
        await listKeys(ctx.store, '', { startAfter: 'm/25' }),
        ['m/3', 'n/1'],
        'after a missing key',
      );
      assert.deepEqual(await listKeys(ctx.store, '', { startAfter: 'a' }), keys, 'before every key');
      assert.deepEqual(await listKeys(ctx.store, '', { startAfter: 'n/1' }), [], 'after the last key');
      assert.deepEqual(
        await listKeys(ctx.store, 'm/', { startAfter: 'm/3' }),
        [],
        'after the last key of a prefix',
      );
    },
  },
  {
    name: 'sees puts and deletes at once',
    async run(ctx) {
      await ctx.store.put('rw/1', patternBytes(3, 34));
      assert.deepEqual(await listKeys(ctx.store), ['rw/1'], 'after the first put');
      await ctx.store.put('rw/2', patternBytes(3, 34));
      await ctx.store.delete('rw/1');
      assert.deepEqual(await listKeys(ctx.store), ['rw/2'], 'after a put and a delete');
    },
  },
  {
    name: `pages through ${MANY} keys in byte order, without gaps or duplicates`,
    timeoutMs: 180_000,
    async run(ctx) {
      // unpadded numbers: byte order (page/10 < page/100 < page/11) differs from numeric order
      const keys = Array.from({ length: MANY }, (_, i) => `page/${i}`);
      const concurrency = Math.min(16, Math.max(2, ctx.caps.preferredConcurrency));
      await forEachLimit(keys, concurrency, async (key) => {
        await ctx.store.put(key, patternBytes(8, 35));
      });
      const expected = byteOrder(keys);
      await expectKeys(ctx, keys, `${MANY} keys`);
      const middle = expected[1010] as string;
      assert.deepEqual(
        await listKeys(ctx.store, 'page/', { startAfter: middle }),
        expected.slice(1011),
        `startAfter ${middle}`,
      );
      assert.deepEqual(
        await listKeys(ctx.store, 'page/11'),
        byteOrder(keys.filter((k) => k.startsWith('page/11'))),
      );
    },
  },
];
