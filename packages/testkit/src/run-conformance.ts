import { type Backend, BackendStore, type ObjectStore } from '@ckpt/core';
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
import type { ConformanceGroup, ConformanceOptions, ConformanceTarget, RawReader, TestApi } from './types.js';
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
 * Registers the conformance suite for one adapter with your test framework: one `describe` per
 * group, one `it` per promise of the contract. Each test gets a fresh backend (or store) from
 * `options.create()`, checks it through the store callers get (a `BackendStore` over the backend,
 * retries off), and closes and cleans it up afterwards. Tests that do not apply to the store's
 * capabilities are skipped at run time (through the test context's `skip()` when the framework
 * passes one, as vitest and node:test do).
 *
 * @example
 * ```ts
 * import { describe, it } from 'vitest';
 * import { runConformance } from '@ckpt/testkit';
 *
 * runConformance({ describe, it }, {
 *   name: 'MyBackend',
 *   create: async () => ({ backend: new MyBackend(...), cleanup: async () => { ... } }),
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
  const skipTests = new Map(Object.entries(options.skipTests ?? {}));
  // built before any describe runs: a framework may collect describe blocks later
  const groups = (Object.entries(GROUPS) as [ConformanceGroup, GroupTests][]).map(
    ([group, tests]) => [group, tests(resolved)] as const,
  );
  const names = new Set(groups.flatMap(([, tests]) => tests.map((test) => test.name)));
  const unknown = [...skipTests.keys()].filter((name) => !names.has(name));
  if (unknown.length > 0) {
    throw new Error(
      `skipTests names no conformance test: ${unknown.map((n) => JSON.stringify(n)).join(', ')}`,
    );
  }
  api.describe(`${options.name} conformance`, () => {
    for (const [group, tests] of groups) {
      if (skipped.has(group)) continue;
      api.describe(group, () => {
        for (const test of tests) {
          const reason = skipTests.get(test.name);
          const run = reason === undefined ? runner(test, resolved) : skipper(reason);
          api.it(test.name, run, test.timeoutMs);
        }
      });
    }
  });
}

/** The body of a test left out by name: skipped with its reason. */
function skipper(reason: string) {
  return async (frameworkContext?: unknown) => skip(frameworkContext, reason);
}

/** The body handed to `it`: a fresh store, the applicability check, the test, the cleanup. */
function runner(test: ConformanceTest, options: ResolvedOptions) {
  return async (frameworkContext?: unknown) => {
    const target = await options.create();
    try {
      const store = storeOf(target);
      try {
        const reason = test.skipReason?.(store.capabilities);
        if (reason !== undefined) {
          skip(frameworkContext, reason);
          return;
        }
        await expectEmpty(store, target.raw);
        await test.run({ store, raw: target.raw, caps: store.capabilities, options });
      } finally {
        await store.close?.();
      }
    } finally {
      await target.cleanup?.();
    }
  };
}

/**
 * The store a test runs on: the target's backend behind the core's store, retries off (a retry
 * could hide a broken promise: see `BackendTarget`), or the target's ready store.
 */
function storeOf(target: ConformanceTarget): ObjectStore {
  const { backend, store } = target as { backend?: Backend; store?: ObjectStore };
  if ((backend === undefined) === (store === undefined)) {
    throw new Error('create() must return either a backend or a store (exactly one of them)');
  }
  return backend ? new BackendStore(backend, { retry: false }) : (store as ObjectStore);
}

async function expectEmpty(store: ObjectStore, raw: RawReader | undefined): Promise<void> {
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
