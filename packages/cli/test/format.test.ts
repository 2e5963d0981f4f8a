import { StoreError } from '@ckpt/core';
import { CommanderError } from 'commander';
import { describe, expect, it } from 'vitest';
import { ExitCode, exitCodeFor } from '../src/exit-codes.js';
import { formatBytes, formatDuration, formatRate } from '../src/format.js';
import { formatTable } from '../src/output/table.js';

describe('human units', () => {
  it.each([
    [0, '0 B'],
    [1023, '1023 B'],
    [1536, '1.50 KiB'],
    [3 * 2 ** 30, '3.00 GiB'],
    [21.5 * 2 ** 30, '21.5 GiB'],
    [150 * 2 ** 20, '150 MiB'],
  ])('formatBytes(%d) = %s', (bytes, text) => expect(formatBytes(bytes)).toBe(text));

  it.each([
    [850, '850 ms'],
    [12_345, '12.3 s'],
    [245_000, '4m05s'],
    [7_380_000, '2h03m'],
    [273_600_000, '3d04h'],
  ])('formatDuration(%d) = %s', (ms, text) => expect(formatDuration(ms)).toBe(text));

  it('formatRate guards against a zero duration', () => {
    expect(formatRate(Number.POSITIVE_INFINITY)).toBe('0 B/s');
    expect(formatRate(250 * 2 ** 20)).toBe('250 MiB/s');
  });

  it('formatTable pads every column but the last', () => {
    expect(
      formatTable([
        ['A', 'LONG', 'X'],
        ['wide', 'b', 'tail'],
      ]),
    ).toEqual(['A     LONG  X', 'wide  b     tail']);
  });
});

describe('exit codes', () => {
  it.each([
    ['NotFound', ExitCode.NotFound],
    ['Integrity', ExitCode.Integrity],
    ['Conflict', ExitCode.Conflict],
    ['PreconditionFailed', ExitCode.Conflict],
    ['AlreadyExists', ExitCode.Conflict],
    ['InvalidArgument', ExitCode.Usage],
    ['Aborted', ExitCode.Interrupted],
    ['Unavailable', ExitCode.Failure],
    ['PermissionDenied', ExitCode.Failure],
    ['Internal', ExitCode.Failure],
    ['Unsupported', ExitCode.Failure],
  ] as const)('%s → %d', (code, exit) => expect(exitCodeFor(new StoreError(code, 'x'))).toBe(exit));

  it('any failure to read the config file is a configuration error', () => {
    expect(exitCodeFor(new StoreError('NotFound', 'no file', { operation: 'config' }))).toBe(ExitCode.Usage);
  });

  it('a store record of a newer format is 6; a damaged one an integrity failure', () => {
    const open = { operation: 'open store', key: 'ckpt/store.json' };
    expect(exitCodeFor(new StoreError('Unsupported', 'newer', open))).toBe(ExitCode.StoreFormat);
    expect(exitCodeFor(new StoreError('Integrity', 'damaged', open))).toBe(ExitCode.Integrity);
  });

  it('commander usage errors are 2, plain errors 1', () => {
    expect(exitCodeFor(new CommanderError(1, 'commander.missingArgument', 'x'))).toBe(ExitCode.Usage);
    expect(exitCodeFor(new Error('boom'))).toBe(ExitCode.Failure);
  });
});
