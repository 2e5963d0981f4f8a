import { tmpdir } from 'node:os';
import { parseSize } from '@ckpt/core/cli';
import { invalid, list, parseFlags, positiveInteger, SHARED_OPTIONS } from '../bench/args.js';

/** The scenarios of the fleet simulation. */
export const FLEET_SCENARIOS = ['a', 'b', 'c', 'd'] as const;
export type FleetScenario = (typeof FLEET_SCENARIOS)[number];

/** Usage of `pnpm bench --fleet`. */
export const FLEET_USAGE = `usage: pnpm bench --fleet [-- options]
  many processes as hosts against one MinIO (and, for d, an fs store too):
  (a) hosts pulling the same model at once; (b) one host pulling 5 models that share a base,
  without and with the chunk cache; (c) hosts pushing different models while a gc loop runs;
  (d) models × generations listed (ckpt ls, ckpt exists) and collected (ckpt gc)
  --scenarios a,b,c,d  which to run (default all)
  --hosts 16           pulling hosts of (a); (c) runs half as many pushers (default 16)
  --size 256MiB        the model of (a) and each model of (b) (a quarter its own, the rest the
                       base); each pusher of (c) pushes 3 versions of a quarter of it
  --models 1000        models of (d)
  --generations 10     generations per model of (d)
  --backends fs,s3     stores of (d) (default fs,s3; a and c run on MinIO)
  --quick              smoke check: 4 hosts, 32MiB, 50 models x 3 generations
  --work <dir>         scratch space (default: the OS temp dir)
  --out <dir>          where fleet.json and fleet.md go (default bench-results)`;

/** What `pnpm bench --fleet` was asked. */
export interface FleetArgs {
  scenarios: FleetScenario[];
  hosts: number;
  sizeBytes: number;
  models: number;
  generations: number;
  backends: ('fs' | 's3')[];
  work: string;
  out: string;
  help: boolean;
}

/** Parses `pnpm bench --fleet` arguments (the `--fleet` flag included); bad ones throw `InvalidArgument`. */
export function parseFleetArgs(argv: string[]): FleetArgs {
  const values = parseFlags(argv, OPTIONS);
  const quick = values.quick ?? false;
  const sizeBytes = parseSize(values.size ?? (quick ? '32MiB' : '256MiB'), '--size');
  if (sizeBytes < 4 * 2 ** 20) throw invalid(`--size must be at least 4MiB (got ${values.size})`);
  return {
    scenarios: list('scenarios', values.scenarios ?? FLEET_SCENARIOS.join(','), FLEET_SCENARIOS),
    hosts: positiveInteger('hosts', values.hosts, quick ? 4 : 16),
    sizeBytes,
    models: positiveInteger('models', values.models, quick ? 50 : 1000),
    generations: positiveInteger('generations', values.generations, quick ? 3 : 10),
    backends: list('backends', values.backends ?? 'fs,s3', ['fs', 's3'] as const),
    work: values.work ?? tmpdir(),
    out: values.out ?? 'bench-results',
    help: values.help ?? false,
  };
}

const OPTIONS = {
  ...SHARED_OPTIONS,
  fleet: { type: 'boolean' },
  scenarios: { type: 'string' },
  hosts: { type: 'string' },
  models: { type: 'string' },
  generations: { type: 'string' },
} as const;
