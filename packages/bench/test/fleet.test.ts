// `pnpm bench --fleet`: its arguments, and scenario (d) end to end on an fs store at a tiny scale
// (host processes run the BUILT package, as the benchmark does).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { useTempDir } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { benchMain } from '../dist/bench/main.js';
import { parseFleetArgs } from '../src/fleet/args.js';

const tempDir = useTempDir('ckpt-fleet-bench-');

describe('parseFleetArgs', () => {
  it('has the issue’s scale by default, and a quick one', () => {
    expect(parseFleetArgs(['--fleet'])).toMatchObject({
      scenarios: ['a', 'c', 'd'],
      hosts: 16,
      sizeBytes: 256 * 2 ** 20,
      models: 1000,
      generations: 10,
      backends: ['fs', 's3'],
    });
    expect(parseFleetArgs(['--fleet', '--quick', '--models', '7'])).toMatchObject({
      hosts: 4,
      sizeBytes: 32 * 2 ** 20,
      models: 7,
      generations: 3,
    });
  });

  it.each([
    [['--scenarios', 'b'], /--scenarios accepts a, c, d/],
    [['--hosts', '0'], /--hosts must be a whole number ≥ 1/],
    [['--size', '1MiB'], /--size must be at least 4MiB/],
    [['--runs', '3'], /Unknown option '--runs'/],
  ])('refuses %j in one line', (argv, message) => {
    expect(() => parseFleetArgs(['--fleet', ...argv])).toThrow(
      expect.objectContaining({ code: 'InvalidArgument', message: expect.stringMatching(message) }),
    );
  });
});

describe('bench --fleet', () => {
  it('lists and collects 6 models × 3 generations on fs, with no error, and says (b) was not run', async () => {
    const work = await tempDir();
    const printed: string[] = [];
    const code = await benchMain(
      ['--', '--fleet', '--scenarios', 'd', '--backends', 'fs', '--models', '6', '--generations', '3'].concat(
        ['--work', work, '--out', join(work, 'out')],
      ),
      (text) => printed.push(text),
      () => {},
    );
    expect(code).toBe(0);
    expect(printed.join('\n')).toContain('(b) one host pulling 5 models that share a base');
    const { rows } = JSON.parse(await readFile(join(work, 'out', 'fleet.json'), 'utf8'));
    const row = (role: string) => rows.find((r: { role: string }) => r.role.startsWith(role));
    expect(row('seed').figures.generations).toBe(18);
    // each also reads the store's record once
    expect(row('ls')).toMatchObject({ requests: 1 + 7, errors: [], figures: { models: 6, generations: 18 } });
    expect(row('exists')).toMatchObject({ requests: 1 + 2, figures: { exists: 1 } });
    expect(row('gc (keeps all')).toMatchObject({ figures: { expiredGenerations: 0 } });
    expect(row('gc --keep 2 --grace 0 (expires)').figures.expiredGenerations).toBe(6);
    expect(row('ls after gc').figures).toEqual({ models: 6, generations: 12 });
    expect(rows.every((r: { errors: string[] }) => r.errors.length === 0)).toBe(true);
    expect(await readFile(join(work, 'out', 'fleet.md'), 'utf8')).toMatch(/^\| scenario \| store \|/);
  }, 300_000);
});
