import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { type PutBody, type PutMode, type PutOptions, StoreError } from '@ckpt/core';
import type { GroupTests } from '../define.js';
import { expectAbsent, expectKeys, expectStored, expectStoreError } from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

/** Keys every store must refuse (see `keyProblem` in @ckpt/core), with why. */
export const INVALID_KEYS: [string, string][] = [
  ['', 'empty'],
  ['/abs', 'leading slash'],
  ['dir/', 'trailing slash'],
  ['a//b', 'empty segment'],
  ['../escape', '".." segment'],
  ['a/./b', '"." segment'],
  ['a/..', 'trailing ".."'],
  ['seg./x', 'segment ending in "."'],
  ['back\\slash', 'backslash'],
  ['nul\u0000byte', 'NUL'],
  ['new\nline', 'newline'],
  ['del\u007f', 'DEL'],
  [
    `${'k'.repeat(255)}/${'k'.repeat(255)}/${'k'.repeat(255)}/${'k'.repeat(255)}/kkkk`,
    'longer than 1024 bytes',
  ],
  [`long/${'s'.repeat(256)}`, '256-byte segment'],
  [`long/${'é'.repeat(128)}`, '256-byte segment in UTF-8'],
];

/** NotFound, delete of missing keys, key and option validation, StoreError shape, size mismatches. */
export const errorTests: GroupTests = () => [
  {
    name: 'get and head of a missing key fail NotFound, naming the key',
    async run(ctx) {
      await ctx.store.put('dir/pages-1.img', patternBytes(10, 61));
      for (const key of ['missing/pages-1.img', 'dir', 'dir/pages-1', 'dir/pages-1.img/x']) {
        for (const [operation, action] of [
          ['get', () => ctx.store.get(key)],
          ['head', () => ctx.store.head(key)],
        ] as const) {
          const error = await expectStoreError(action, 'NotFound', `${operation} ${key}`);
          assert.ok(
            error.message.includes(key),
            `${operation} ${key}: the message names the key: ${error.message}`,
          );
        }
      }
    },
  },
  {
    name: 'errors are StoreErrors that StoreError.is recognises',
    async run(ctx) {
      const error: unknown = await ctx.store.head('missing').then(
        () => assert.fail('head of a missing key succeeded'),
        (e: unknown) => e,
      );
      assert.ok(error instanceof Error, 'an Error');
      assert.ok(StoreError.is(error), 'StoreError.is(error)');
      assert.ok(StoreError.is(error, 'NotFound'), "StoreError.is(error, 'NotFound')");
      assert.ok(StoreError.is(error, 'Internal', 'NotFound'), 'StoreError.is with several codes');
      assert.equal(StoreError.is(error, 'Internal'), false, "StoreError.is(error, 'Internal')");
      assert.equal(error.code, 'NotFound', 'code');
      assert.equal(error.retryable, false, 'NotFound is not retryable');
    },
  },
  {
    name: 'deleting a missing key succeeds and touches nothing else',
    async run(ctx) {
      await ctx.store.put('dir/kept', patternBytes(10, 62));
      await ctx.store.delete('never/existed');
      await ctx.store.delete('dir');
      await ctx.store.delete('dir/kept/below');
      await ctx.store.delete('dir/kep');
      await expectStored(ctx, 'dir/kept', patternBytes(10, 62));
      await expectKeys(ctx, ['dir/kept'], 'after deleting missing keys');
    },
  },
  {
    name: 'invalid keys fail InvalidArgument and never reach the backend',
    async run(ctx) {
      for (const [key, why] of INVALID_KEYS) {
        await expectStoreError(
          () => ctx.store.put(key, patternBytes(4, 63)),
          'InvalidArgument',
          `put (${why})`,
        );
        await expectStoreError(() => ctx.store.get(key), 'InvalidArgument', `get (${why})`);
        await expectStoreError(() => ctx.store.head(key), 'InvalidArgument', `head (${why})`);
        await expectStoreError(() => ctx.store.delete(key), 'InvalidArgument', `delete (${why})`);
      }
      await expectKeys(ctx, [], 'after the refused puts');
    },
  },
  {
    name: 'deleteMany reports or throws InvalidArgument for an invalid key',
    async run(ctx) {
      await ctx.store.put('ok', patternBytes(4, 64));
      let result: Awaited<ReturnType<typeof ctx.store.deleteMany>> | undefined;
      try {
        result = await ctx.store.deleteMany(['../escape']);
      } catch (error) {
        assert.ok(StoreError.is(error, 'InvalidArgument'), `deleteMany threw ${String(error)}`);
      }
      if (result) {
        assert.equal(result.errors.length, 1, 'one per-key error');
        assert.ok(
          StoreError.is(result.errors[0]?.error, 'InvalidArgument'),
          'the per-key error is InvalidArgument',
        );
      }
      await expectKeys(ctx, ['ok'], 'after deleteMany of an invalid key');
    },
  },
  {
    name: 'malformed ranges, put modes, sizes, bodies and metadata fail InvalidArgument and write nothing',
    async run(ctx) {
      const before = patternBytes(10, 67);
      await ctx.store.put('opts/existing', before);
      for (const [range, why] of [
        [{ offset: -1 }, 'negative offset'],
        [{ offset: 1.5 }, 'fractional offset'],
        [{ offset: Number.NaN }, 'NaN offset'],
        [{ offset: 2 ** 53 }, 'offset past 2^53'],
        [{ offset: 0, length: -1 }, 'negative length'],
        [{ offset: 0, length: 2.5 }, 'fractional length'],
      ] as const) {
        await expectStoreError(
          () => ctx.store.get('opts/existing', { range }),
          'InvalidArgument',
          `get with a ${why}`,
        );
      }
      const body = patternBytes(20, 68);
      const bad: [string, PutBody, PutOptions][] = [
        ['an unknown mode', body, { mode: 'replace' as PutMode }],
        ['a negative size', body, { size: -1 }],
        ['a fractional size', body, { size: 19.5 }],
        ['a string body', 'twenty bytes of text' as unknown as PutBody, {}],
      ];
      if (ctx.caps.metadata) {
        bad.push(['a metadata name outside [a-z0-9-]', body, { metadata: { 'Bad Name': 'x' } }]);
      }
      for (const key of ['opts/existing', 'opts/new']) {
        for (const [why, what, options] of bad) {
          await expectStoreError(
            () => ctx.store.put(key, what, options),
            'InvalidArgument',
            `put ${key} with ${why}`,
          );
        }
      }
      await expectStored(ctx, 'opts/existing', before);
      await expectAbsent(ctx, 'opts/new');
      await expectKeys(ctx, ['opts/existing'], 'after the refused puts');
    },
  },
  {
    name: 'a body longer or shorter than the declared size fails Integrity and stores nothing',
    async run(ctx) {
      const before = patternBytes(10, 65);
      await ctx.store.put('sized/existing', before);
      const body = patternBytes(1000, 66);
      for (const key of ['sized/existing', 'sized/new']) {
        for (const size of [999, 1001]) {
          const what = `put of 1000 bytes declared as ${size} to ${key}`;
          await expectStoreError(
            () => ctx.store.put(key, Readable.from([body]), { size }),
            'Integrity',
            what,
          );
          await expectStoreError(() => ctx.store.put(key, body, { size }), 'Integrity', `${what} (bytes)`);
        }
      }
      await expectStored(ctx, 'sized/existing', before);
      await expectAbsent(ctx, 'sized/new');
      await expectKeys(ctx, ['sized/existing'], 'after the size mismatches');
    },
  },
];
