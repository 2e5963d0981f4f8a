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
      scenarios: ['a', 'b', 'c', 'd'],
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
    [['--scenarios', 'e'], /--scenarios accepts a, b, c, d/],
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
  it('lists and collects 6 models × 3 generations on fs, with no error', async () => {
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
    const { rows } = JSON.parse(await readFile(join(work, 'out', 'fleet.json'), 'utf8'));
    const row = (role: string) => rows.find((r: { role: string }) => r.role.startsWith(role));
    expect(row('seed').figures.generations).toBe(18);
    // each also reads the store's record once; ls lists the models and reads no manifest (summary keys)
    expect(row('ls')).toMatchObject({ requests: 1 + 1, errors: [], figures: { models: 6, generations: 18 } });
    expect(row('exists')).toMatchObject({ requests: 1 + 2, figures: { exists: 1 } });
    expect(row('gc (keeps all')).toMatchObject({ figures: { expiredGenerations: 0 } });
    expect(row('gc --keep 2 --grace 0 (expires)').figures.expiredGenerations).toBe(6);
    expect(row('ls after gc').figures).toEqual({ models: 6, generations: 12 });
    expect(rows.every((r: { errors: string[] }) => r.errors.length === 0)).toBe(true);
    expect(await readFile(join(work, 'out', 'fleet.md'), 'utf8')).toMatch(/^\| scenario \| store \|/);
  }, 300_000);

  it('(b): a host with the cache pulls 5 models sharing a base, then pulls them again from the cache alone', async () => {
    const work = await tempDir();
    const code = await benchMain(
      ['--', '--fleet', '--scenarios', 'b', '--size', '8MiB', '--work', work, '--out', join(work, 'out')],
      () => {},
      () => {},
    );
    const { family, rows } = JSON.parse(await readFile(join(work, 'out', 'fleet.json'), 'utf8'));
    expect(rows.flatMap((r: { errors: string[] }) => r.errors)).toEqual([]);
    expect(code).toBe(0);
    type Pull = { cache: boolean; round: number; newBytes: number; figures: Record<string, number> };
    const pulls = (cache: boolean, round: number) =>
      (family as Pull[]).filter((p) => p.cache === cache && p.round === round);
    expect(family).toHaveLength(20);
    // without the cache every model is downloaded whole, each time
    for (const pull of [...pulls(false, 1), ...pulls(false, 2)]) expect(pull.figures.chunksShared).toBe(0);
    // with it, the models after the first share the base with the directories the host holds
    for (const pull of pulls(true, 1).slice(1)) expect(pull.figures.chunksShared).toBeGreaterThan(0);
    // and once every directory is gone, the cache serves everything
    for (const pull of pulls(true, 2))
      expect(pull.figures).toMatchObject({ chunksNew: 0, bytesTransferred: 0 });
    expect(await readFile(join(work, 'out', 'fleet.md'), 'utf8')).toContain('| cache | round | model |');
  }, 300_000);
});
