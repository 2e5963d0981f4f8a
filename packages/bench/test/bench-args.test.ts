import { StoreError } from '@ckpt/core';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../src/bench/args.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;

describe('parseBenchArgs', () => {
  it('has defaults for a full run', () => {
    const args = parseBenchArgs([]);
    expect(args).toMatchObject({
      backends: ['fs', 's3', 'gcs', 'azure'],
      sizeBytes: 3 * GiB,
      runs: 3,
      quick: false,
      out: 'bench-results',
      cache: ['warm'],
      scalingBytes: [GiB / 2, 2 * GiB],
      smallFiles: 10_000,
      tools: true,
      sweep: true,
      encryption: true,
      verify: true,
      seed: 1,
      engine: {},
      updateDocs: false,
    });
    expect(args.report).toBeUndefined();
  });

  it('--quick shrinks everything, explicit flags still win', () => {
    expect(parseBenchArgs(['--quick'])).toMatchObject({
      sizeBytes: 64 * MiB,
      runs: 1,
      scalingBytes: [32 * MiB],
      smallFiles: 500,
    });
    expect(parseBenchArgs(['--quick', '--runs', '2', '--size', '1GiB'])).toMatchObject({
      sizeBytes: GiB,
      runs: 2,
    });
  });

  it('parses lists, sizes and knobs', () => {
    const args = parseBenchArgs([
      '--backends',
      's3',
      '--cache',
      'warm,cold',
      '--scaling',
      '2GiB,512MiB',
      '--large',
      '--small-files',
      '0',
      '--no-tools',
      '--no-sweep',
      '--no-encryption',
      '--concurrency',
      '8',
      '--threads',
      '2',
      '--memory-budget',
      '32MiB',
      '--out',
      '/tmp/x',
      '--update-docs',
      '--report',
      'r.json',
    ]);
    expect(args).toMatchObject({
      backends: ['s3'],
      cache: ['warm', 'cold'],
      scalingBytes: [512 * MiB, 2 * GiB, 8 * GiB],
      smallFiles: 0,
      tools: false,
      sweep: false,
      encryption: false,
      engine: { concurrency: 8, threads: 2, memoryBudget: 32 * MiB },
      out: '/tmp/x',
      updateDocs: true,
      report: 'r.json',
    });
    expect(parseBenchArgs(['--scaling', '']).scalingBytes).toEqual([]);
    expect(parseBenchArgs(['--backends', 'fs,fs']).backends).toEqual(['fs']);
    expect(parseBenchArgs(['--backends', 'azure,gcs']).backends).toEqual(['azure', 'gcs']);
  });

  it.each([
    [['--backends', 'gs'], /--backends accepts fs, s3, gcs, azure \(got "gs"\)/],
    [['--cache', 'hot'], /--cache accepts warm, cold/],
    [['--runs', '0'], /--runs must be a whole number ≥ 1/],
    [['--runs', 'many'], /--runs/],
    [['--size', '3 parsecs'], /--size must be a size/],
    [['--size', '10KiB'], /--size must be at least 1MiB/],
    [['--scaling', '1GiB,huge'], /--scaling/],
    [['--bogus'], /Unknown option/],
    [['stray'], /Unexpected argument/],
  ])('rejects %j with InvalidArgument', (argv, message) => {
    let error: unknown;
    try {
      parseBenchArgs(argv);
    } catch (err) {
      error = err;
    }
    expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    expect((error as Error).message).toMatch(message);
  });
});
