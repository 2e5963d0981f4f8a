import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '@ckpt/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { genWorkloadMain, parseGenWorkloadArgs } from '../src/workload/index.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'ckpt-workload-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await genWorkloadMain(
    argv,
    (line) => out.push(line),
    (line) => err.push(line),
  );
  return { code, out, err: err.join('\n') };
}

describe('parseGenWorkloadArgs', () => {
  it('has defaults', () => {
    expect(parseGenWorkloadArgs(['out'])).toEqual({
      dir: 'out',
      options: {
        seed: 1,
        version: 0,
        totalBytes: 3 * 2 ** 30,
        preset: 'default',
        pidChurn: false,
        fsync: false,
      },
    });
  });

  it('reads every option', () => {
    const args = parseGenWorkloadArgs(
      ['d', '--seed', 'abc', '--version', '2', '--size', '64MiB', '--preset', 'mostly-zeros'].concat([
        '--rewrite-fraction',
        '0.2',
        '--pid-churn',
        '--oracle-from',
        '1',
        '--fsync',
      ]),
    );
    expect(args).toEqual({
      dir: 'd',
      oracleFrom: 1,
      options: {
        seed: 'abc',
        version: 2,
        totalBytes: 64 * 2 ** 20,
        preset: 'mostly-zeros',
        rewriteFraction: 0.2,
        pidChurn: true,
        fsync: true,
      },
    });
  });

  it.each([[[]], [['a', 'b']], [['d', '--version', 'x']], [['d', '--bogus']], [['d', '--size', 'lots']]])(
    'rejects %j',
    (argv) => {
      let error: unknown;
      try {
        parseGenWorkloadArgs(argv);
      } catch (e) {
        error = e;
      }
      expect(StoreError.is(error, 'InvalidArgument')).toBe(true);
    },
  );
});

describe('gen-workload', () => {
  it('writes a checkpoint and prints one JSON line with the oracle', async () => {
    const dir = join(root, 'v1');
    const { code, out } = await run([
      dir,
      '--seed',
      '5',
      '--version',
      '1',
      '--size',
      '4MiB',
      '--oracle-from',
      '0',
    ]);
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    const line = JSON.parse(out[0]!);
    expect(line).toMatchObject({ dir, seed: 5, version: 1, preset: 'default' });
    expect(line.files).toBe(
      (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length,
    );
    expect(line.bytes).toBeGreaterThan(3 * 2 ** 20);
    expect(line.zeroFraction).toBeGreaterThan(0.3);
    expect(line.oracle).toMatchObject({ fromVersion: 0, toVersion: 1, toBytes: line.bytes });
    expect(line.oracle.newBytes).toBeGreaterThan(0);
  });

  it('exits 2 with a message for bad arguments or a busy directory', async () => {
    expect((await run([join(root, 'x'), '--preset', 'huge', '--size', '2MiB'])).err).toMatch(
      /preset must be one of/,
    );
    const busy = join(root, 'busy');
    await mkdir(busy);
    await writeFile(join(busy, 'f'), '');
    const result = await run([busy, '--size', '2MiB']);
    expect(result.code).toBe(2);
    expect(result.err).toContain('not empty');
  });

  it('prints usage for --help', async () => {
    const { code, out } = await run(['--help']);
    expect(code).toBe(0);
    expect(out.join('\n')).toMatch(/usage: gen-workload <dir>/);
  });
});
