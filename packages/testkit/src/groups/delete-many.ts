import assert from 'node:assert/strict';
import type { GroupTests } from '../define.js';
import { expectKeys } from '../util/checks.js';
import { forEachLimit } from '../util/limit.js';
import { patternBytes } from '../util/pattern.js';

/** Most keys the test puts, however large the store's batches are. */
const MAX_KEYS = 1500;

/** `deleteMany`: more keys than one batch, missing keys, empty lists. */
export const deleteManyTests: GroupTests = () => [
  {
    name: 'deletes more keys than one batch; missing keys are not errors',
    timeoutMs: 180_000,
    async run(ctx) {
      const count = Math.min(ctx.caps.batchDeleteSize, MAX_KEYS) + 5;
      const doomed = Array.from({ length: count }, (_, i) => `doomed/${i}`);
      const kept = ['doomed-not/1', 'doomed/kept', 'kept/1'];
      const concurrency = Math.min(16, Math.max(2, ctx.caps.preferredConcurrency));
      await forEachLimit([...doomed, ...kept], concurrency, async (key) => {
        await ctx.store.put(key, patternBytes(4, 101));
      });
      const missing = ['never/1', 'doomed/never', 'doomed/kept/below'];
      const result = await ctx.store.deleteMany([...missing.slice(0, 1), ...doomed, ...missing.slice(1)]);
      assert.deepEqual(
        result.errors.map((e) => `${e.key}: ${e.error.message}`),
        [],
        'deleteMany reports no errors',
      );
      await expectKeys(ctx, kept, `after deleting ${count} keys`);
    },
  },
  {
    name: 'an empty list deletes nothing',
    async run(ctx) {
      await ctx.store.put('kept', patternBytes(4, 102));
      assert.deepEqual(await ctx.store.deleteMany([]), { errors: [] });
      await expectKeys(ctx, ['kept'], 'after an empty deleteMany');
    },
  },
];
