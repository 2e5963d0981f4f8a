import { MemoryStore } from '@ckpt/core';
import { describe, expect, it } from 'vitest';
import type { ConformanceGroup } from '../src/index.js';
import {
  AbortIgnoredStore,
  BodyAliasingStore,
  CodelessErrorStore,
  CreateOnlyIgnoredStore,
  EarlyReleaseStore,
  HidingDeleteStore,
  IntoMisplacedStore,
  MissingKeyErrorStore,
  RangeIgnoredStore,
  SizeIgnoredStore,
  SwapIgnoredStore,
  TruncatingStore,
  Utf16ListStore,
} from './support/broken-stores.js';
import { failures, named, runSuite } from './support/collect.js';
import { memoryRaw } from './support/memory-raw.js';

const GROUPS: ConformanceGroup[] = [
  'basic',
  'streaming',
  'ranges',
  'list',
  'conditional',
  'errors',
  'keys',
  'abort',
  'deleteMany',
];

/** Runs only `group` against stores made by `make`, with a raw reader unless `raw` is false. */
function suite(make: () => MemoryStore, group: ConformanceGroup, raw = true) {
  return runSuite({
    name: make().constructor.name,
    checkMemory: false,
    largeObjectBytes: 4 * 1024 * 1024,
    skip: GROUPS.filter((g) => g !== group),
    create: async () => {
      const store = make();
      return raw ? { store, raw: memoryRaw(store) } : { store };
    },
  });
}

// Each broken store must fail exactly the tests that check the promise it breaks.
const CASES: { make: () => MemoryStore; group: ConformanceGroup; fails: string[] }[] = [
  {
    make: () => new CreateOnlyIgnoredStore(),
    group: 'conditional',
    fails: [
      'conditional > create-only: the first create wins, a second fails AlreadyExists and changes nothing',
      'conditional > create-only: of 8 writers racing to create a key, exactly one wins',
    ],
  },
  {
    make: () => new SwapIgnoredStore(),
    group: 'conditional',
    fails: [
      'conditional > compare-and-swap: the current version wins, a stale or missing one fails PreconditionFailed',
      'conditional > compare-and-swap: 8 writers incrementing a counter lose no update',
    ],
  },
  {
    make: () => new TruncatingStore(),
    group: 'basic',
    fails: [
      'basic > put then get returns the same bytes; put, head, get and list agree',
      'basic > accepts a Readable and an async iterable as the body',
      'basic > keeps no reference to a body once put settled (callers reuse their buffers)',
      'basic > keeps no reference to a body it released (onBodyReleased: at most once, before the put settles)',
      'basic > overwriting replaces the bytes and changes the version',
      'basic > delete removes the object from get, head, list and the backend',
    ],
  },
  {
    make: () => new TruncatingStore(),
    group: 'streaming',
    fails: [
      'streaming > streams a 4.0 MiB object of unknown length in and out',
      'streaming > stores a body of many irregular chunks with its size declared',
      'streaming > a body that fails midway fails the put and leaves the key as it was',
      'streaming > a get body abandoned after its first chunk does not disturb the store',
    ],
  },
  {
    make: () => new BodyAliasingStore(),
    group: 'basic',
    fails: ['basic > keeps no reference to a body once put settled (callers reuse their buffers)'],
  },
  {
    make: () => new EarlyReleaseStore(),
    group: 'basic',
    fails: [
      'basic > keeps no reference to a body it released (onBodyReleased: at most once, before the put settles)',
    ],
  },
  {
    make: () => new Utf16ListStore(),
    group: 'list',
    fails: ['list > lists every key with its size in byte order, non-ASCII and nested keys included'],
  },
  {
    make: () => new HidingDeleteStore(),
    group: 'basic',
    fails: ['basic > delete removes the object from get, head, list and the backend'],
  },
  {
    make: () => new CodelessErrorStore(),
    group: 'errors',
    fails: [
      'errors > get and head of a missing key fail NotFound, naming the key',
      'errors > errors are StoreErrors that StoreError.is recognises',
      'errors > invalid keys fail InvalidArgument and never reach the backend',
      'errors > a body longer or shorter than the declared size fails Integrity and stores nothing',
    ],
  },
  {
    make: () => new AbortIgnoredStore(),
    group: 'abort',
    fails: [
      'abort > an already-aborted signal fails a put with Aborted and writes nothing',
      'abort > aborting while a put streams fails it with Aborted and leaves the key as it was',
    ],
  },
  {
    make: () => new SizeIgnoredStore(),
    group: 'errors',
    fails: ['errors > a body longer or shorter than the declared size fails Integrity and stores nothing'],
  },
  {
    make: () => new RangeIgnoredStore(),
    group: 'ranges',
    fails: [
      'ranges > ranged reads return exactly the requested bytes',
      'ranges > a range past the end yields the bytes that exist',
      'ranges > a zero-length range yields no bytes',
      'ranges > a get into a caller buffer yields the bytes, in place when it uses the buffer',
    ],
  },
  {
    make: () => new IntoMisplacedStore(),
    group: 'ranges',
    fails: ['ranges > a get into a caller buffer yields the bytes, in place when it uses the buffer'],
  },
  {
    make: () => new MissingKeyErrorStore(),
    group: 'deleteMany',
    fails: ['deleteMany > deletes more keys than one batch; missing keys are not errors'],
  },
];

describe('the suite fails stores that break the contract', () => {
  for (const { make, group, fails } of CASES) {
    it(`${make().constructor.name} fails ${group}`, async () => {
      const outcomes = await suite(make, group);
      expect(named(outcomes, 'failed')).toEqual(fails);
    });
  }

  it('a delete that only hides the key passes without a raw reader, fails with one', async () => {
    expect(failures(await suite(() => new HidingDeleteStore(), 'basic', false))).toEqual([]);
  });
});

describe('the suite passes MemoryStore', () => {
  for (const group of GROUPS) {
    it(group, async () => {
      const outcomes = await suite(() => new MemoryStore(), group);
      expect(failures(outcomes)).toEqual([]);
      expect(named(outcomes, 'passed').length).toBeGreaterThan(0);
    });
  }

  it('skips what MemoryStore does not claim, runs the fallback checks instead', async () => {
    const outcomes = await suite(() => new MemoryStore(), 'ranges');
    expect(named(outcomes, 'skipped')).toEqual([
      'ranges > without rangedRead, a full get still returns every byte',
    ]);
  });
});
