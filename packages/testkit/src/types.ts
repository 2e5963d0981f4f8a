import type { ObjectStore } from '@ckpt/core';

/**
 * Reads what really landed in the backend, bypassing the adapter, so an adapter cannot pass the
 * suite by telling the suite what it wants to hear (a `delete` that only hides a key, a failed put
 * that leaves a temporary object behind).
 */
export interface RawReader {
  /** The stored bytes of `key` (relative to the store's root/prefix), or undefined when absent. Small objects only. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** Every key stored under the store's root/prefix, sorted, relative to it. Include temporary and stray objects. */
  keys(): Promise<string[]>;
}

/** What `create()` hands to one test. */
export interface ConformanceTarget {
  /** A fresh, EMPTY store (a new temp dir, a new key prefix in a bucket, …). */
  store: ObjectStore;
  /** Direct access to the backend; when given, the suite also checks what really landed. */
  raw?: RawReader;
  /** Called after the test (after `store.close()`), whether it passed or not. */
  cleanup?(): Promise<void>;
}

/**
 * The two functions of your test framework the suite needs: vitest's `describe`/`it`, node:test's,
 * mocha's. The suite never imports a test framework itself.
 */
export interface TestApi {
  describe(name: string, fn: () => void): void;
  it(name: string, fn: () => Promise<void> | void, timeoutMs?: number): void;
}

/** The groups of tests, one file each under `src/groups/`. */
export type ConformanceGroup =
  | 'basic'
  | 'streaming'
  | 'ranges'
  | 'list'
  | 'conditional'
  | 'errors'
  | 'keys'
  | 'abort'
  | 'deleteMany';

export interface ConformanceOptions {
  /** Shown in the outer `describe`, e.g. `'FsStore'`. */
  name: string;
  /** Called once per test: return a fresh, empty store. */
  create(): Promise<ConformanceTarget>;
  /** Groups to leave out. Say why in the adapter's test file. */
  skip?: ConformanceGroup[];
  /** Size of the object the `streaming` group moves. Default 64 MiB. */
  largeObjectBytes?: number;
  /**
   * Assert that the process RSS does not grow with the object size while the large object is put
   * and read back. Default `true`; set `false` for stores that keep objects in memory.
   */
  checkMemory?: boolean;
}
