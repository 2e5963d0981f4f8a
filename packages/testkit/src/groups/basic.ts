import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { type GroupTests, whenDeclared } from '../define.js';
import {
  expectAbsent,
  expectKeys,
  expectStored,
  expectStoreError,
  getBytes,
  listAll,
} from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

const DAY_MS = 24 * 60 * 60 * 1000;

/** put / get / head / delete of small objects, empty objects, metadata. */
export const basicTests: GroupTests = () => [
  {
    name: 'put then get returns the same bytes; put, head, get and list agree',
    async run(ctx) {
      const key = 'basic/core-1.img';
      const bytes = patternBytes(1000, 1);
      const put = await ctx.store.put(key, bytes);
      assert.equal(put.size, bytes.length, 'put result size');
      assert.ok(typeof put.version === 'string' && put.version !== '', 'put returns a version');

      const head = await ctx.store.head(key);
      assert.equal(head.key, key, 'head key');
      assert.equal(head.size, bytes.length, 'head size');
      assert.equal(head.version, put.version, 'head version equals the put version');
      assert.ok(head.lastModified instanceof Date, 'lastModified is a Date');
      assert.ok(
        Math.abs(head.lastModified.getTime() - Date.now()) < DAY_MS,
        `lastModified ${head.lastModified}`,
      );

      const { result } = await getBytes(ctx.store, key);
      assert.equal(result.key, key, 'get key');
      assert.equal(result.version, put.version, 'get version');
      assert.deepEqual(result.range, { offset: 0, length: bytes.length }, 'get range of a whole object');
      await expectStored(ctx, key, bytes);

      const listed = await listAll(ctx.store);
      assert.deepEqual(
        listed.map((m) => [m.key, m.size, m.version]),
        [[key, bytes.length, put.version]],
        'list',
      );
    },
  },
  {
    name: 'accepts a Readable and an async iterable as the body',
    async run(ctx) {
      const bytes = patternBytes(70_001, 2);
      await ctx.store.put('body/readable', Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]));
      async function* chunks() {
        for (let at = 0; at < bytes.length; at += 8192) yield bytes.subarray(at, at + 8192);
      }
      await ctx.store.put('body/iterable', chunks());
      await expectStored(ctx, 'body/readable', bytes);
      await expectStored(ctx, 'body/iterable', bytes);
    },
  },
  {
    name: 'keeps no reference to a body once put settled (callers reuse their buffers)',
    async run(ctx) {
      const bytes = patternBytes(70_001, 9);
      const body = Uint8Array.from(bytes);
      await ctx.store.put('body/reused', body);
      body.fill(0xee);
      await expectStored(ctx, 'body/reused', bytes);
    },
  },
  {
    name: 'keeps no reference to a body it released (onBodyReleased: at most once, before the put settles)',
    async run(ctx) {
      const bytes = patternBytes(3 * 1024 * 1024 + 17, 10);
      const body = Uint8Array.from(bytes);
      let released = 0;
      let settled = false;
      const onBodyReleased = () => {
        released++;
        assert.equal(settled, false, 'onBodyReleased was called after the put settled');
        body.fill(0xee); // the caller reuses the buffer at once
      };
      await ctx.store.put('body/released', body, { onBodyReleased });
      settled = true;
      assert.ok(released <= 1, `onBodyReleased was called ${released} times`);
      await expectStored(ctx, 'body/released', bytes);
    },
  },
  {
    name: 'overwriting replaces the bytes and changes the version',
    async run(ctx) {
      const first = await ctx.store.put('over/write', patternBytes(300, 3));
      const bytes = patternBytes(200, 4);
      const second = await ctx.store.put('over/write', bytes);
      assert.notEqual(second.version, first.version, 'new content, new version');
      assert.equal((await ctx.store.head('over/write')).version, second.version, 'head sees the new version');
      await expectStored(ctx, 'over/write', bytes);
      await expectKeys(ctx, ['over/write'], 'after an overwrite');
    },
  },
  {
    name: 'stores and returns an empty object',
    async run(ctx) {
      const put = await ctx.store.put('empty/stats-dump', new Uint8Array(0));
      assert.equal(put.size, 0, 'put size');
      assert.equal((await ctx.store.head('empty/stats-dump')).size, 0, 'head size');
      await ctx.store.put('empty/from-stream', Readable.from([]));
      await expectStored(ctx, 'empty/stats-dump', new Uint8Array(0));
      await expectStored(ctx, 'empty/from-stream', new Uint8Array(0));
      const listed = await listAll(ctx.store);
      assert.deepEqual(
        listed.map((m) => [m.key, m.size]),
        [
          ['empty/from-stream', 0],
          ['empty/stats-dump', 0],
        ],
        'list shows both empty objects',
      );
    },
  },
  {
    name: 'delete removes the object from get, head, list and the backend',
    async run(ctx) {
      await ctx.store.put('del/gone', patternBytes(10, 5));
      await ctx.store.put('del/kept', patternBytes(10, 6));
      await ctx.store.delete('del/gone');
      await expectAbsent(ctx, 'del/gone');
      await expectStoreError(() => ctx.store.get('del/gone'), 'NotFound', 'get of a deleted key');
      await expectStored(ctx, 'del/kept', patternBytes(10, 6));
      await expectKeys(ctx, ['del/kept'], 'after delete');
    },
  },
  {
    name: 'metadata round-trips through head, get and list',
    skipReason: whenDeclared('metadata'),
    async run(ctx) {
      const metadata = { 'model-name': 'llama-3.1-8b', host: 'gpu-07', 'criu-version': '4.1' };
      await ctx.store.put('meta/inventory.img', patternBytes(50, 7), { metadata });
      assert.deepEqual((await ctx.store.head('meta/inventory.img')).metadata, metadata, 'head metadata');
      assert.deepEqual(
        (await getBytes(ctx.store, 'meta/inventory.img')).result.metadata,
        metadata,
        'get metadata',
      );
      assert.deepEqual((await listAll(ctx.store))[0]?.metadata, metadata, 'list metadata');
      await ctx.store.put('meta/inventory.img', patternBytes(50, 8));
      const after = (await ctx.store.head('meta/inventory.img')).metadata ?? {};
      assert.deepEqual(after, {}, 'an overwrite without metadata drops the old metadata');
    },
  },
];
