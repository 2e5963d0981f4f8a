import assert from 'node:assert/strict';
import { StoreError } from '@ckpt/core';
import { type GroupTests, type TestContext, whenDeclared, whenNotDeclared } from '../define.js';
import { expectAbsent, expectKeys, expectStored, expectStoreError, getBytes } from '../util/checks.js';
import { patternBytes } from '../util/pattern.js';

const WRITERS = 8;
const INCREMENTS = 4;

/** Reads the counter object, then writes counter + 1 with `mode: {update}`; retries when another writer won. */
async function increment(ctx: TestContext, key: string): Promise<void> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const { result, bytes } = await getBytes(ctx.store, key);
    try {
      await ctx.store.put(key, Buffer.from(String(Number(bytes.toString()) + 1)), {
        mode: { update: result.version },
      });
      return;
    } catch (error) {
      if (!StoreError.is(error, 'PreconditionFailed')) throw error;
    }
  }
  assert.fail(`increment of ${key}: still losing the race after 1000 attempts`);
}

/** Create-only and compare-and-swap puts, when declared; `Unsupported` when not. */
export const conditionalTests: GroupTests = () => [
  {
    name: 'create-only: the first create wins, a second fails AlreadyExists and changes nothing',
    skipReason: whenDeclared('conditionalCreate'),
    async run(ctx) {
      const first = patternBytes(100, 41);
      await ctx.store.put('cas/pointer', first, { mode: 'create' });
      await expectStoreError(
        () => ctx.store.put('cas/pointer', patternBytes(50, 42), { mode: 'create' }),
        'AlreadyExists',
        'second create-only put',
      );
      await expectStored(ctx, 'cas/pointer', first);
      await ctx.store.delete('cas/pointer');
      await ctx.store.put('cas/pointer', patternBytes(7, 43), { mode: 'create' });
      await expectStored(
        ctx,
        'cas/pointer',
        patternBytes(7, 43),
        'cas/pointer (created again after a delete)',
      );
    },
  },
  {
    name: `create-only: of ${WRITERS} writers racing to create a key, exactly one wins`,
    skipReason: whenDeclared('conditionalCreate'),
    async run(ctx) {
      for (let round = 0; round < 3; round++) {
        const key = `race/${round}`;
        const bodies = Array.from({ length: WRITERS }, (_, i) => patternBytes(1000 + i, 100 * round + i));
        const outcomes = await Promise.allSettled(
          bodies.map((b) => ctx.store.put(key, b, { mode: 'create' })),
        );
        const winners = outcomes.flatMap((o, i) => (o.status === 'fulfilled' ? [i] : []));
        assert.equal(winners.length, 1, `round ${round}: ${winners.length} writers won`);
        for (const o of outcomes) {
          if (o.status === 'rejected') {
            assert.ok(
              StoreError.is(o.reason, 'AlreadyExists'),
              `a losing writer fails AlreadyExists: ${o.reason}`,
            );
          }
        }
        await expectStored(ctx, key, bodies[winners[0] as number] as Buffer, `${key} (the winner's bytes)`);
      }
    },
  },
  {
    name: 'compare-and-swap: the current version wins, a stale or missing one fails PreconditionFailed',
    skipReason: whenDeclared('conditionalReplace'),
    async run(ctx) {
      const v1 = await ctx.store.put('cas/head', patternBytes(10, 44));
      const v2 = await ctx.store.put('cas/head', patternBytes(11, 45), { mode: { update: v1.version } });
      assert.notEqual(v2.version, v1.version, 'a successful swap returns a new version');
      await expectStoreError(
        () => ctx.store.put('cas/head', patternBytes(12, 46), { mode: { update: v1.version } }),
        'PreconditionFailed',
        'put with a stale version',
      );
      await expectStored(ctx, 'cas/head', patternBytes(11, 45));
      await expectStoreError(
        () => ctx.store.put('cas/missing', patternBytes(13, 47), { mode: { update: v2.version } }),
        'PreconditionFailed',
        'put {update} on a missing key',
      );
      await expectAbsent(ctx, 'cas/missing');
      await expectKeys(ctx, ['cas/head'], 'after the swaps');
    },
  },
  {
    name: `compare-and-swap: ${WRITERS} writers incrementing a counter lose no update`,
    skipReason: whenDeclared('conditionalReplace'),
    timeoutMs: 120_000,
    async run(ctx) {
      await ctx.store.put('cas/counter', Buffer.from('0'));
      await Promise.all(
        Array.from({ length: WRITERS }, async () => {
          for (let i = 0; i < INCREMENTS; i++) await increment(ctx, 'cas/counter');
        }),
      );
      await expectStored(ctx, 'cas/counter', Buffer.from(String(WRITERS * INCREMENTS)));
    },
  },
  {
    name: 'without conditionalCreate, a create-only put fails Unsupported and writes nothing',
    skipReason: whenNotDeclared('conditionalCreate'),
    async run(ctx) {
      await ctx.store.put('cond/existing', patternBytes(10, 48));
      for (const key of ['cond/existing', 'cond/new']) {
        await expectStoreError(
          () => ctx.store.put(key, patternBytes(20, 49), { mode: 'create' }),
          'Unsupported',
          `create-only put of ${key}`,
        );
      }
      await expectStored(ctx, 'cond/existing', patternBytes(10, 48));
      await expectKeys(ctx, ['cond/existing'], 'after the rejected puts');
    },
  },
  {
    name: 'without conditionalReplace, a compare-and-swap put fails Unsupported and writes nothing',
    skipReason: whenNotDeclared('conditionalReplace'),
    async run(ctx) {
      const { version } = await ctx.store.put('cond/existing', patternBytes(10, 50));
      for (const key of ['cond/existing', 'cond/new']) {
        await expectStoreError(
          () => ctx.store.put(key, patternBytes(20, 51), { mode: { update: version } }),
          'Unsupported',
          `compare-and-swap put of ${key}`,
        );
      }
      await expectStored(ctx, 'cond/existing', patternBytes(10, 50));
      await expectKeys(ctx, ['cond/existing'], 'after the rejected puts');
    },
  },
];
