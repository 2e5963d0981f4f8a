import assert from 'node:assert/strict';
import type { GroupTests } from '../define.js';
import { expectKeys, expectStored } from '../util/checks.js';
import { digestStream } from '../util/digest.js';
import { patternBytes, patternStream } from '../util/pattern.js';
import { formatBytes, memoryLimit, RssSampler } from '../util/rss-sampler.js';

const MiB = 1024 * 1024;

/** Large objects stream in and out (content checked by sha256, memory bounded); partial bodies. */
export const streamingTests: GroupTests = (options) => {
  const size = options.largeObjectBytes;
  return [
    {
      name: `streams a ${formatBytes(size)} object of unknown length in and out${options.checkMemory ? ' with bounded memory' : ''}`,
      timeoutMs: 120_000 + (size / MiB) * 1000,
      async run(ctx) {
        const key = 'large/pages-1.img';
        const expected = await digestStream(patternStream(size, 11));

        const putMemory = options.checkMemory ? RssSampler.start() : undefined;
        const put = await ctx.store.put(
          key,
          patternStream(size, 11, { onChunk: (n) => putMemory?.progress(n) }),
        );
        const putGrowth = putMemory?.stop();
        assert.equal(put.size, size, 'put result size');
        assert.equal((await ctx.store.head(key)).size, size, 'head size');

        const getMemory = options.checkMemory ? RssSampler.start() : undefined;
        const result = await ctx.store.get(key);
        assert.equal(result.size, size, 'get size');
        const got = await digestStream(result.body, (n) => getMemory?.progress(n));
        const getGrowth = getMemory?.stop();
        assert.equal(got.bytes, size, 'bytes read back');
        assert.equal(got.sha256, expected.sha256, 'sha256 of the bytes read back');

        for (const [operation, growth, sampler] of [
          ['put', putGrowth, putMemory],
          ['get', getGrowth, getMemory],
        ] as const) {
          if (growth === undefined || sampler === undefined) continue;
          const limit = memoryLimit(size, sampler.collectsGarbage);
          assert.ok(
            growth < limit,
            `${operation}: RSS grew by ${formatBytes(growth)} while streaming a ${formatBytes(size)} object ` +
              `(limit ${formatBytes(limit)}): the adapter seems to hold the object in memory`,
          );
        }
      },
    },
    {
      name: 'stores a body of many irregular chunks with its size declared',
      timeoutMs: 60_000,
      async run(ctx) {
        const bytes = patternBytes(3 * MiB + 17, 12);
        async function* irregular() {
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const length = [1, 4093, 65_536, 7, 300_001][i % 5] as number;
            yield bytes.subarray(at, at + length);
            at += length;
          }
        }
        const put = await ctx.store.put('irregular/pages-2.img', irregular(), { size: bytes.length });
        assert.equal(put.size, bytes.length, 'put result size');
        await expectStored(ctx, 'irregular/pages-2.img', bytes);
      },
    },
    {
      name: 'a body that fails midway fails the put and leaves the key as it was',
      async run(ctx) {
        const before = patternBytes(1000, 13);
        await ctx.store.put('fail/pages-3.img', before);
        async function* failing() {
          yield patternBytes(64 * 1024, 14);
          throw new Error('disk read error');
        }
        await assert.rejects(ctx.store.put('fail/pages-3.img', failing()), 'put of a failing body rejects');
        await assert.rejects(ctx.store.put('fail/new.img', failing()), 'put of a failing body rejects');
        await expectStored(ctx, 'fail/pages-3.img', before);
        await expectKeys(ctx, ['fail/pages-3.img'], 'after failed puts');
      },
    },
    {
      name: 'a get body abandoned after its first chunk does not disturb the store',
      async run(ctx) {
        const bytes = patternBytes(2 * MiB, 15);
        await ctx.store.put('abandon/pages-4.img', bytes);
        const result = await ctx.store.get('abandon/pages-4.img');
        for await (const _chunk of result.body) break; // for-await's break destroys the stream
        assert.ok(result.body.destroyed, 'the body is destroyed');
        await ctx.store.put('abandon/pages-4.img', patternBytes(100, 16));
        await expectStored(ctx, 'abandon/pages-4.img', patternBytes(100, 16));
      },
    },
  ];
};
