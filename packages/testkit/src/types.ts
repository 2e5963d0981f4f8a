import type { Backend, ObjectStore } from '@ckpt/core';

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

/** What every target may add to its backend or store. */
interface TargetExtras {
  /** Direct access to the backend; when given, the suite also checks what really landed. */
  raw?: RawReader;
  /** Called after the test (after the store is closed), whether it passed or not. */
  cleanup?(): Promise<void>;
}

/**
 * The usual target of an adapter: its `Backend`, which the suite wraps in
 * `new BackendStore(backend, { retry: false })` (the store `openStore` builds, retries off), so
 * every promise is checked through the store callers really get.
 *
 * Retries are off because a retry could hide a broken promise: a failure the backend marks
 * retryable would be tried again until it happened to pass, a body that breaks off would be
 * fetched again from where it broke. Without them each call reaches the backend once, and what
 * the suite sees is the backend's own answer.
 */
export interface BackendTarget extends TargetExtras {
  /** A fresh backend over an EMPTY store (a new temp dir, a new key prefix in a bucket, …). */
  backend: Backend;
  store?: never;
}

/**
 * A ready `ObjectStore`, for stores built otherwise: one from `openStore` (to check the registry
 * entry and its options), a `BackendStore` with options of your own, an `ObjectStore` that is not
 * built on a `Backend`. The suite tests it as given, retries and layers included, so a retry in it
 * may hide what the backend form would show: prefer `backend` for an adapter.
 */
export interface StoreTarget extends TargetExtras {
  /** A fresh, EMPTY store. */
  store: ObjectStore;
  backend?: never;
}

/** What `create()` hands to one test: a backend (the usual form) or a ready store. */
export type ConformanceTarget = BackendTarget | StoreTarget;

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
  /** Shown in the outer `describe`, e.g. `'FsBackend'`. */
  name: string;
  /**
   * Called once per test: return a fresh backend over an empty store (`{ backend, raw }`), or a
   * ready store (`{ store, raw }`) when the store is not a plain `BackendStore` over your backend.
   */
  create(): Promise<ConformanceTarget>;
  /** Groups to leave out. Say why in the adapter's test file. */
  skip?: ConformanceGroup[];
  /**
   * Single tests to leave out, by their exact name, each with why (shown as the skip note). For a
   * server that departs from its service's documented behaviour in one promise (an emulator):
   * add a test of your own showing the departure. A name that matches no test is an error.
   */
  skipTests?: Record<string, string>;
  /** Size of the object the `streaming` group moves. Default 64 MiB. */
  largeObjectBytes?: number;
  /**
   * Assert that the process RSS does not grow with the object size while the large object is put
   * and read back. Default `true`; set `false` for stores that keep objects in memory.
   */
  checkMemory?: boolean;
}
