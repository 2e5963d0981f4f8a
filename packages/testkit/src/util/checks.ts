import assert from 'node:assert/strict';
import {
  type GetOptions,
  type GetResult,
  type ListOptions,
  type ObjectMeta,
  type ObjectStore,
  STORE_ERROR_CODES,
  StoreError,
  type StoreErrorCode,
} from '@ckpt/core';
import { compareKeys, readAll } from '@ckpt/core/backend';
import type { TestContext } from '../define.js';

/** The suite's small objects stay far below this; a larger body is a bug in the store. */
const SMALL_OBJECT_LIMIT = 16 * 1024 * 1024;

/** Reads a small body into memory. */
export function readBytes(body: AsyncIterable<Uint8Array>): Promise<Buffer> {
  return readAll(body, SMALL_OBJECT_LIMIT, 'conformance object');
}

/** `get` and read the whole (small) body. */
export async function getBytes(
  store: ObjectStore,
  key: string,
  options?: GetOptions,
): Promise<{ result: GetResult; bytes: Buffer }> {
  const result = await store.get(key, options);
  return { result, bytes: await readBytes(result.body) };
}

/** Every object the store lists under `prefix`, in the order it lists them. */
export async function listAll(
  store: ObjectStore,
  prefix?: string,
  options?: ListOptions,
): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of store.list(prefix, options)) out.push(meta);
  return out;
}

/** The keys the store lists under `prefix`, in the order it lists them. */
export async function listKeys(
  store: ObjectStore,
  prefix?: string,
  options?: ListOptions,
): Promise<string[]> {
  return (await listAll(store, prefix, options)).map((meta) => meta.key);
}

/** `keys` sorted in byte order, the order every store lists in. */
export function byteOrder(keys: Iterable<string>): string[] {
  return [...keys].sort(compareKeys);
}

/** Equal bytes, with a message that says where they differ instead of dumping them. */
export function assertBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  if (Buffer.compare(actual, expected) === 0) return;
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  assert.fail(
    `${what}: got ${actual.length} bytes, expected ${expected.length}; first difference at byte ${at}`,
  );
}

/**
 * Awaits `action` and returns its error, asserting it is a StoreError with one of `codes` (and a
 * code from the closed set). A synchronous throw is a failure too: callers chain `.catch()`.
 */
export async function expectStoreError(
  action: () => Promise<unknown>,
  codes: StoreErrorCode | StoreErrorCode[],
  what: string,
): Promise<StoreError> {
  const wanted = Array.isArray(codes) ? codes : [codes];
  let promise: Promise<unknown>;
  try {
    promise = action();
  } catch (error) {
    assert.fail(`${what}: threw synchronously instead of returning a rejected promise: ${String(error)}`);
  }
  let failure: unknown;
  try {
    await promise;
  } catch (error) {
    failure = error ?? new Error('rejected with no reason');
  }
  assert.ok(failure !== undefined, `${what}: succeeded, expected ${wanted.join(' or ')}`);
  assert.ok(
    StoreError.is(failure),
    `${what}: expected a StoreError ${wanted.join(' or ')}, got ${String(failure)}`,
  );
  assert.ok(STORE_ERROR_CODES.includes(failure.code), `${what}: unknown code ${failure.code}`);
  assert.ok(
    wanted.includes(failure.code),
    `${what}: expected ${wanted.join(' or ')}, got ${failure.code}: ${failure.message}`,
  );
  return failure;
}

/** `key` holds exactly `bytes`, through the store and (when given) in the backend. */
export async function expectStored(
  ctx: TestContext,
  key: string,
  bytes: Uint8Array,
  what = key,
): Promise<void> {
  const { result, bytes: got } = await getBytes(ctx.store, key);
  assertBytes(got, bytes, `get ${what}`);
  assert.equal(result.size, bytes.length, `get ${what}: size`);
  if (ctx.raw) {
    const raw = await ctx.raw.read(key);
    assert.ok(raw, `backend has no object for ${what}`);
    assertBytes(raw, bytes, `backend bytes of ${what}`);
  }
}

/** `key` is gone: `head` fails NotFound and (when given) the backend has no such object. */
export async function expectAbsent(ctx: TestContext, key: string, what = key): Promise<void> {
  await expectStoreError(() => ctx.store.head(key), 'NotFound', `head ${what}`);
  if (ctx.raw) assert.equal(await ctx.raw.read(key), undefined, `backend still holds ${what}`);
}

/** The whole store holds exactly `expected`: `list()` yields them in byte order, the backend has no others. */
export async function expectKeys(ctx: TestContext, expected: Iterable<string>, what: string): Promise<void> {
  const want = byteOrder(expected);
  assert.deepEqual(await listKeys(ctx.store), want, `${what}: list()`);
  if (ctx.raw) assert.deepEqual(byteOrder(await ctx.raw.keys()), want, `${what}: keys in the backend`);
}
