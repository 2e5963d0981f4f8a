import type { Capabilities, ObjectStore } from '@ckpt/core';
import type { ConformanceOptions, RawReader } from './types.js';

/** Options with their defaults filled in. */
export interface ResolvedOptions extends Required<Omit<ConformanceOptions, 'skip' | 'skipTests'>> {}

/** What a test body receives: a fresh empty store, its raw reader (if any) and its capabilities. */
export interface TestContext {
  store: ObjectStore;
  raw: RawReader | undefined;
  caps: Readonly<Capabilities>;
  options: ResolvedOptions;
}

/** One conformance test: a name, the capabilities it applies to, and its body. */
export interface ConformanceTest {
  name: string;
  /** Why this test does not apply to a store with `caps`, or undefined when it does. */
  skipReason?(caps: Readonly<Capabilities>): string | undefined;
  timeoutMs?: number;
  run(ctx: TestContext): Promise<void>;
}

/** A group builds its tests from the options (capabilities are only known once a store exists). */
export type GroupTests = (options: ResolvedOptions) => ConformanceTest[];

type Flag = { [K in keyof Capabilities]: Capabilities[K] extends boolean ? K : never }[keyof Capabilities];

/** Applies only when the store declares capability `flag`. */
export function whenDeclared(flag: Flag): ConformanceTest['skipReason'] {
  return (caps) => (caps[flag] ? undefined : `the store does not declare ${flag}`);
}

/** Applies only when the store does NOT declare capability `flag`. */
export function whenNotDeclared(flag: Flag): ConformanceTest['skipReason'] {
  return (caps) => (caps[flag] ? `the store declares ${flag}` : undefined);
}
