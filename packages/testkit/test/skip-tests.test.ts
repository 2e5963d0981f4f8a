import { MemoryBackend } from '@ckpt/core/testing';
import { expect, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { failures, named, runSuite } from './support/collect.js';

const ORDER = 'list > lists every key with its size in byte order, non-ASCII and nested keys included';

it('skipTests leaves out exactly the named test, reported as skipped with its reason', async () => {
  const outcomes = await runSuite({
    name: 'memory',
    checkMemory: false,
    largeObjectBytes: 1024 * 1024,
    skip: ['streaming', 'conditional', 'errors', 'keys', 'abort', 'deleteMany', 'basic', 'ranges'],
    skipTests: { [ORDER.split(' > ')[1]!]: 'the emulator lists in UTF-16 order' },
    create: async () => ({ backend: new MemoryBackend('mem://skip') }),
  });
  expect(failures(outcomes)).toEqual([]);
  expect(outcomes.get(ORDER)).toEqual({ status: 'skipped', reason: 'the emulator lists in UTF-16 order' });
  expect(named(outcomes, 'passed').length).toBeGreaterThan(0);
  expect(named(outcomes, 'skipped')).toEqual([ORDER]);
});

it('a skipTests name that matches no test is an error', () => {
  const api = { describe: (_: string, fn: () => void) => fn(), it: () => {} };
  expect(() =>
    runConformance(api, {
      name: 'memory',
      skipTests: { 'no such test': 'typo' },
      create: async () => ({ backend: new MemoryBackend('mem://skip') }),
    }),
  ).toThrow(/skipTests names no conformance test: "no such test"/);
});
