import { tmpdir } from 'node:os';
import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';
import { StoreError } from '@ckpt/core';
import { parseSize } from '@ckpt/core/cli';
import type { BackendKind, BenchArgs, EngineKnobs } from './types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** Usage of `pnpm bench`. */
export const BENCH_USAGE = `usage: pnpm bench [-- options]
  --backends fs,s3,gcs,azure  stores to measure: fs, s3 (MinIO), gcs (fake-gcs-server), azure (Azurite) (default: all)
  --size 3GiB          main workload size (default 3GiB)
  --runs 3             runs per operation; the median is reported (default 3)
  --quick              smoke check: 64MiB, 1 run, 32MiB scaling, 500 small files (minutes per backend)
  --out <dir>          where results.json, table.txt, results.md and bench.svg go (default bench-results)
  --cache warm         page cache before each operation: warm, cold (drop_caches) or warm,cold
  --scaling 0.5GiB,2GiB  extra workload sizes for time per GiB and peak RSS (default 0.5GiB,2GiB)
  --large              add 8GiB to --scaling (check free disk: about 4x the size is used)
  --small-files 10000  files in the many-small-files workload (0: skip; default 10000)
  --no-tools           skip the peers: cp -r, aws s3 sync, rclone copy, s5cmd sync, restic, azcopy copy
  --no-sweep           skip the rewrite-fraction sweep
  --no-encryption      skip the engine's runs with client-side encryption on (rows "ckpt (encrypted)")
  --no-verify          skip checking the first run's pulls against their source
  --seed 1             workload seed
  --work <dir>         scratch space for workloads and stores (default: the OS temp dir)
  --concurrency N      engine: parallel store requests (default: the store's preference)
  --threads N          engine: chunking threads (default: available cores)
  --memory-budget 32MiB  engine: file data held in memory at once (default: the engine's)
  --update-docs        also write docs/benchmarks.md (between its result markers) and docs/bench/
  --report <json>      measure nothing: render an earlier results.json again (with --out, --update-docs)
  --fleet              the fleet simulation instead: many processes as hosts (see --fleet --help)`;

/** Every backend the benchmark knows, in the order it measures them. */
export const BACKENDS = ['fs', 's3', 'gcs', 'azure'] as const satisfies readonly BackendKind[];

/** Rewrite fractions of the sweep (next-version push). */
export const SWEEP_FRACTIONS = [0, 0.01, 0.05, 0.2, 1] as const;

/** A bad argument of `pnpm bench`. */
export function invalid(message: string): StoreError {
  return new StoreError('InvalidArgument', message, { operation: 'bench arguments' });
}

/** The comma-separated `text` of `--flag`, each item one of `allowed`. */
export function list<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim());
  for (const item of items) {
    if (!allowed.includes(item as T)) {
      throw invalid(`--${flag} accepts ${allowed.join(', ')} (got ${JSON.stringify(item)})`);
    }
  }
  return [...new Set(items as T[])];
}

/** The whole number `text` of `--flag` (at least `min`), or `fallback` when absent. */
export function positiveInteger(flag: string, text: string | undefined, fallback: number, min = 1): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < min) {
    throw invalid(`--${flag} must be a whole number ≥ ${min} (got ${JSON.stringify(text)})`);
  }
  return Number(text);
}

function size(flag: string, text: string): number {
  const bytes = parseSize(text, `--${flag}`);
  if (bytes < MiB) throw invalid(`--${flag} must be at least 1MiB (got ${JSON.stringify(text)})`);
  return bytes;
}

/** Parses `pnpm bench` arguments (without `node` and the script); bad ones throw `InvalidArgument`. */
export function parseBenchArgs(argv: string[]): BenchArgs {
  const values = parseFlags(argv, OPTIONS);
  const quick = values.quick ?? false;
  const scaling = values.scaling ?? (quick ? '32MiB' : '0.5GiB,2GiB');
  const scalingBytes = scaling === '' ? [] : scaling.split(',').map((s) => size('scaling', s.trim()));
  if (values.large) scalingBytes.push(8 * GiB);
  const engine: EngineKnobs = {};
  if (values.concurrency !== undefined)
    engine.concurrency = positiveInteger('concurrency', values.concurrency, 0);
  if (values.threads !== undefined) engine.threads = positiveInteger('threads', values.threads, 0);
  if (values['memory-budget'] !== undefined)
    engine.memoryBudget = size('memory-budget', values['memory-budget']);
  return {
    backends: list('backends', values.backends ?? BACKENDS.join(','), BACKENDS),
    sizeBytes: values.size !== undefined ? size('size', values.size) : quick ? 64 * MiB : 3 * GiB,
    runs: positiveInteger('runs', values.runs, quick ? 1 : 3),
    quick,
    out: values.out ?? 'bench-results',
    cache: list('cache', values.cache ?? 'warm', ['warm', 'cold'] as const),
    scalingBytes: [...new Set(scalingBytes)].sort((a, b) => a - b),
    smallFiles: positiveInteger('small-files', values['small-files'], quick ? 500 : 10_000, 0),
    tools: !(values['no-tools'] ?? false),
    sweep: !(values['no-sweep'] ?? false),
    encryption: !(values['no-encryption'] ?? false),
    verify: !(values['no-verify'] ?? false),
    seed: positiveInteger('seed', values.seed, 1, 0),
    work: values.work ?? tmpdir(),
    engine,
    updateDocs: values['update-docs'] ?? false,
    ...(values.report === undefined ? {} : { report: values.report }),
    help: values.help ?? false,
  };
}

/** The options `pnpm bench` and `pnpm bench --fleet` share. */
export const SHARED_OPTIONS = {
  backends: { type: 'string' },
  size: { type: 'string' },
  quick: { type: 'boolean' },
  out: { type: 'string' },
  work: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `argv` parsed (strict, no positionals) by `options`; what `parseArgs` refuses is one `InvalidArgument` line. */
export function parseFlags<O extends ParseArgsOptionsConfig>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
  } catch (err) {
    throw new StoreError('InvalidArgument', (err as Error).message, {
      operation: 'bench arguments',
      cause: err,
    });
  }
}

const OPTIONS = {
  ...SHARED_OPTIONS,
  runs: { type: 'string' },
  cache: { type: 'string' },
  scaling: { type: 'string' },
  large: { type: 'boolean' },
  'small-files': { type: 'string' },
  'no-tools': { type: 'boolean' },
  'no-sweep': { type: 'boolean' },
  'no-encryption': { type: 'boolean' },
  'no-verify': { type: 'boolean' },
  seed: { type: 'string' },
  concurrency: { type: 'string' },
  threads: { type: 'string' },
  'memory-budget': { type: 'string' },
  'update-docs': { type: 'boolean' },
  report: { type: 'string' },
} as const;
