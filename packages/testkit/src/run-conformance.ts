import type { ConformanceTest, GroupTests, ResolvedOptions } from './define.js';
import { abortTests } from './groups/abort.js';
import { basicTests } from './groups/basic.js';
import { conditionalTests } from './groups/conditional.js';
import { deleteManyTests } from './groups/delete-many.js';
import { errorTests } from './groups/errors.js';
import { keyTests } from './groups/keys.js';
import { listTests } from './groups/list.js';
import { rangeTests } from './groups/ranges.js';
import { streamingTests } from './groups/streaming.js';
import type { ConformanceGroup, ConformanceOptions, ConformanceTarget, TestApi } from './types.js';
import { listKeys } from './util/checks.js';

const GROUPS: Record<ConformanceGroup, GroupTests> = {
  basic: basicTests,
  streaming: streamingTests,
  ranges: rangeTests,
  list: listTests,
  conditional: conditionalTests,
  errors: errorTests,
  keys: keyTests,
  abort: abortTests,
  deleteMany: deleteManyTests,
};

/**
 * Registers the conformance suite for one ObjectStore adapter with your test framework: one
 * `describe` per group, one `it` per promise of the contract. Each test gets a fresh store from
 * `options.create()` and closes and cleans it up afterwards. Tests that do not apply to the
 * store's capabilities are skipped at run time (through the test context's `skip()` when the
 * framework passes one, as vitest and node:test do).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runConformance } from '@ckpt/testkit';
 *
 * runConformance({ describe, it }, {
 *   name: 'MyStore',
 *   create: async () => ({ store: new MyStore(...), cleanup: async () => { ... } }),
 * });
 * ```
 */
export function runConformance(api: TestApi, options: ConformanceOptions): void {
  const resolved: ResolvedOptions = {
    name: options.name,
    create: options.create,
    largeObjectBytes: options.largeObjectBytes ?? 64 * 1024 * 1024,
    checkMemory: options.checkMemory ?? true,
  };
  const skipped = new Set(options.skip ?? []);
  api.describe(`${options.name} conformance`, () => {
    for (const [group, tests] of Object.entries(GROUPS) as [ConformanceGroup, GroupTests][]) {
      if (skipped.has(group)) continue;
      api.describe(group, () => {
        for (const test of tests(resolved)) api.it(test.name, runner(test, resolved), test.timeoutMs);
      });
    }
  });
}

/** The body handed to `it`: a fresh store, the applicability check, the test, the cleanup. */
function runner(test: ConformanceTest, options: ResolvedOptions) {
  return async (frameworkContext?: unknown) => {
    const target = await options.create();
    try {
      const reason = test.skipReason?.(target.store.capabilities);
      if (reason !== undefined) {
        skip(frameworkContext, reason);
        return;
      }
      await expectEmpty(target);
      await test.run({ store: target.store, raw: target.raw, caps: target.store.capabilities, options });
    } finally {
      await target.store.close?.();
      await target.cleanup?.();
    }
  };
}

async function expectEmpty({ store, raw }: ConformanceTarget): Promise<void> {
  const keys = raw ? await raw.keys() : await listKeys(store);
  if (keys.length > 0) {
    throw new Error(
      `create() must return an empty store; ${store.name} holds ${keys.slice(0, 5).join(', ')}`,
    );
  }
}

/** Marks the running test skipped when the framework lets us (vitest and node:test contexts do). */
function skip(frameworkContext: unknown, reason: string): void {
  const ctx = frameworkContext as { skip?: (note?: string) => void } | undefined;
  if (typeof ctx?.skip === 'function') ctx.skip(reason);
}
