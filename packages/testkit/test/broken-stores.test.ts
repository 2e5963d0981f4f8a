import { BackendStore } from '@ckpt/core';
import { MemoryBackend, MemoryStore } from '@ckpt/core/testing';
import { describe, expect, it } from 'vitest';
import type { ConformanceGroup, ConformanceTarget } from '../src/index.js';
import {
  AbortIgnoredBackend,
  BodyAliasingBackend,
  CodelessErrorBackend,
  CreateOnlyIgnoredBackend,
  EarlyReleaseBackend,
  FlakyHeadBackend,
  HidingDeleteBackend,
  InclusiveStartAfterBackend,
  IntoMisplacedBackend,
  MetadataStickyBackend,
  MissingDeleteFailsBackend,
  MissingKeyErrorBackend,
  PageGapBackend,
  PartialWriteBackend,
  PastEndRefusedBackend,
  RangeIgnoredBackend,
  ShortBodyBackend,
  SizeIgnoredBackend,
  StaleListBackend,
  SwapIgnoredBackend,
  TruncatingBackend,
  Utf16ListBackend,
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

/** Runs only `group` against the targets `make` returns. */
function suiteOf(name: string, make: () => ConformanceTarget, group: ConformanceGroup) {
  return runSuite({
    name,
    checkMemory: false,
    largeObjectBytes: 4 * 1024 * 1024,
    skip: GROUPS.filter((g) => g !== group),
    create: async () => make(),
  });
}

/** Runs only `group` against backends made by `make`, with a raw reader unless `raw` is false. */
function suite(make: () => MemoryBackend, group: ConformanceGroup, raw = true) {
  return suiteOf(
    make().constructor.name,
    () => {
      const backend = make();
      return raw ? { backend, raw: memoryRaw(backend) } : { backend };
    },
    group,
  );
}

/**
 * Each broken backend, run through the core's store, fails exactly the tests that check the
 * promise it breaks, except where the store keeps that promise for every backend. `why` matches
 * the first failure, where the store itself reports the break.
 */
const CASES: { make: () => MemoryBackend; group: ConformanceGroup; fails: string[]; why?: RegExp }[] = [
  {
    make: () => new CreateOnlyIgnoredBackend(),
    group: 'conditional',
    fails: [
      'conditional > create-only: the first create wins, a second fails AlreadyExists and changes nothing',
      'conditional > create-only: of 8 writers racing to create a key, exactly one wins',
    ],
  },
  {
    make: () => new SwapIgnoredBackend(),
    group: 'conditional',
    fails: [
      'conditional > compare-and-swap: the current version wins, a stale or missing one fails PreconditionFailed',
      'conditional > compare-and-swap: 8 writers incrementing a counter lose no update',
    ],
  },
  {
    make: () => new TruncatingBackend(),
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
    make: () => new TruncatingBackend(),
    group: 'streaming',
    fails: [
      'streaming > streams a 4.0 MiB object of unknown length in and out',
      'streaming > stores a body of many irregular chunks with its size declared',
      'streaming > a body that fails midway fails the put and leaves the key as it was',
      'streaming > a get body abandoned after its first chunk does not disturb the store',
    ],
  },
  {
    make: () => new BodyAliasingBackend(),
    group: 'basic',
    fails: ['basic > keeps no reference to a body once put settled (callers reuse their buffers)'],
  },
  {
    make: () => new EarlyReleaseBackend(),
    group: 'basic',
    fails: [
      'basic > keeps no reference to a body it released (onBodyReleased: at most once, before the put settles)',
    ],
  },
  {
    make: () => new Utf16ListBackend(),
    group: 'list',
    // the store checks the order: it fails the listing with Internal at the first key out of order
    fails: ['list > lists every key with its size in byte order, non-ASCII and nested keys included'],
    why: /StoreError: list: the backend listed "Ａ" out of order/,
  },
  {
    make: () => new HidingDeleteBackend(),
    group: 'basic',
    fails: ['basic > delete removes the object from get, head, list and the backend'],
  },
  {
    make: () => new CodelessErrorBackend(),
    group: 'errors',
    // the store reads the plain Error as Internal (its message kept): still not the NotFound promised;
    // 'invalid keys fail InvalidArgument' passes: the store keeps that promise, the key never reaches head
    fails: [
      'errors > get and head of a missing key fail NotFound, naming the key',
      'errors > errors are StoreErrors that StoreError.is recognises',
      'errors > malformed ranges, put modes, sizes, bodies and metadata fail InvalidArgument and write nothing',
      'errors > a body longer or shorter than the declared size fails Integrity and stores nothing',
    ],
    why: /expected NotFound, got Internal: head missing\/pages-1\.img: object not found/,
  },
  {
    make: () => new AbortIgnoredBackend(),
    group: 'abort',
    // 'an already-aborted signal fails a put' passes: the store keeps that promise, checking the signal
    // before each call; only the backend can stop a put while its body streams
    fails: ['abort > aborting while a put streams fails it with Aborted and leaves the key as it was'],
  },
  {
    make: () => new SizeIgnoredBackend(),
    group: 'errors',
    // the store refuses a Uint8Array of the wrong size itself; only the backend can count a stream
    fails: ['errors > a body longer or shorter than the declared size fails Integrity and stores nothing'],
  },
  {
    make: () => new RangeIgnoredBackend(),
    group: 'ranges',
    // 'a zero-length range yields no bytes' passes: the store keeps that promise, zero-length ranges never reach the backend
    fails: [
      'ranges > ranged reads return exactly the requested bytes',
      'ranges > a range past the end yields the bytes that exist',
      'ranges > a get into a caller buffer yields the bytes, in place when it uses the buffer',
    ],
  },
  {
    make: () => new IntoMisplacedBackend(),
    group: 'ranges',
    fails: ['ranges > a get into a caller buffer yields the bytes, in place when it uses the buffer'],
  },
  {
    make: () => new MissingKeyErrorBackend(),
    group: 'deleteMany',
    fails: ['deleteMany > deletes more keys than one batch; missing keys are not errors'],
  },
  {
    make: () => new MissingDeleteFailsBackend(),
    group: 'errors',
    fails: ['errors > deleting a missing key succeeds and touches nothing else'],
  },
  {
    make: () => new MissingDeleteFailsBackend(),
    group: 'deleteMany',
    fails: ['deleteMany > deletes more keys than one batch; missing keys are not errors'],
  },
  {
    make: () => new PartialWriteBackend(),
    group: 'streaming',
    fails: ['streaming > a body that fails midway fails the put and leaves the key as it was'],
  },
  {
    make: () => new PartialWriteBackend(),
    group: 'abort',
    fails: ['abort > aborting while a put streams fails it with Aborted and leaves the key as it was'],
  },
  {
    make: () => new PastEndRefusedBackend(),
    group: 'ranges',
    fails: [
      'ranges > a range past the end yields the bytes that exist',
      'ranges > a zero-length range yields no bytes',
    ],
  },
  {
    make: () => new ShortBodyBackend(),
    group: 'basic',
    // the store counts the bytes: a body that ends early fails with Unavailable instead of looking complete
    fails: [
      'basic > accepts a Readable and an async iterable as the body',
      'basic > keeps no reference to a body once put settled (callers reuse their buffers)',
      'basic > keeps no reference to a body it released (onBodyReleased: at most once, before the put settles)',
    ],
    why: /the body ended after 65536 of \d+ bytes/,
  },
  {
    make: () => new PageGapBackend(),
    group: 'list',
    fails: ['list > pages through 1150 keys in byte order, without gaps or duplicates'],
  },
  {
    make: () => new InclusiveStartAfterBackend(),
    group: 'list',
    // the store fails the listing with Internal when it yields startAfter itself
    fails: [
      'list > startAfter yields only keys after it, with or without a prefix',
      'list > pages through 1150 keys in byte order, without gaps or duplicates',
    ],
    why: /out of order/,
  },
  {
    make: () => new StaleListBackend(),
    group: 'list',
    fails: [
      'list > lists every key with its size in byte order, non-ASCII and nested keys included',
      'list > sees puts and deletes at once',
    ],
  },
  {
    make: () => new MetadataStickyBackend(),
    group: 'basic',
    fails: ['basic > metadata round-trips through head, get and list'],
  },
];

describe('the suite fails backends that break the contract', () => {
  for (const { make, group, fails, why } of CASES) {
    it(`${make().constructor.name} fails ${group}`, async () => {
      const outcomes = await suite(make, group);
      expect(named(outcomes, 'failed')).toEqual(fails);
      if (why) expect(failures(outcomes)[0]).toMatch(why);
    });
  }

  it('a delete that only hides the key passes without a raw reader, fails with one', async () => {
    expect(failures(await suite(() => new HidingDeleteBackend(), 'basic', false))).toEqual([]);
  });
});

describe('the suite runs a backend through the core store, retries off', () => {
  it('passes MemoryBackend in every group', async () => {
    for (const group of GROUPS) {
      const outcomes = await suite(() => new MemoryBackend(), group);
      expect(failures(outcomes)).toEqual([]);
      expect(named(outcomes, 'passed').length).toBeGreaterThan(0);
    }
  });

  it('skips what MemoryBackend does not claim, runs the fallback checks instead', async () => {
    const outcomes = await suite(() => new MemoryBackend(), 'ranges');
    expect(named(outcomes, 'skipped')).toEqual([
      'ranges > without rangedRead, a full get still returns every byte',
    ]);
  });

  it('calls the backend once per operation: a retrying store would hide a failure', async () => {
    const once = await suite(() => new FlakyHeadBackend(), 'basic');
    expect(failures(once)[0]).toMatch(/Unavailable|connection reset/);
    const retrying = await suiteOf(
      'retrying store',
      () => ({ store: new BackendStore(new FlakyHeadBackend(), { retry: { baseDelayMs: 0 } }) }),
      'basic',
    );
    expect(failures(retrying)).toEqual([]);
  });

  it('takes a ready store instead of a backend', async () => {
    const outcomes = await suiteOf(
      'MemoryStore',
      () => {
        const store = new MemoryStore();
        return { store, raw: memoryRaw(store.backend as MemoryBackend) };
      },
      'basic',
    );
    expect(failures(outcomes)).toEqual([]);
  });

  it('fails a target with both a backend and a store, or neither', async () => {
    for (const target of [
      { backend: new MemoryBackend(), store: new MemoryStore() },
      {},
    ] as unknown as ConformanceTarget[]) {
      const outcomes = await suiteOf('bad target', () => target, 'deleteMany');
      expect(failures(outcomes)[0]).toMatch(/either a backend or a store/);
    }
  });
});
