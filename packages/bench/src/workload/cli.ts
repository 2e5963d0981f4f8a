import { parseArgs } from 'node:util';
import { StoreError } from '@ckpt/core';
import { parseSize } from '@ckpt/core/cli';
import { type GenerateOptions, generateCheckpoint } from './generate.js';
import type { WorkloadPreset } from './options.js';
import { oracle } from './oracle.js';

/** Usage of `gen-workload`. */
export const GEN_WORKLOAD_USAGE = `usage: gen-workload <dir> [--seed N] [--version N] [--size 3GiB]
       [--preset default|mostly-zeros|mostly-random] [--rewrite-fraction F] [--pid-churn]
       [--oracle-from N] [--fsync]
Writes a synthetic CRIU-like checkpoint into <dir> (missing or empty) and prints one line of JSON.`;

/** A parsed `gen-workload` command line. */
export interface GenWorkloadArgs {
  dir: string;
  options: GenerateOptions;
  /** Also compute the oracle from this version to `options.version`. */
  oracleFrom?: number;
}

function integer(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) {
    throw new StoreError(
      'InvalidArgument',
      `--${name} must be a whole number (got ${JSON.stringify(text)})`,
      {
        operation: 'gen-workload',
      },
    );
  }
  return Number(text);
}

/** Parses `gen-workload` arguments (without `node` and the script). */
export function parseGenWorkloadArgs(argv: string[]): GenWorkloadArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new StoreError('InvalidArgument', (err as Error).message, {
      operation: 'gen-workload',
      cause: err,
    });
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new StoreError('InvalidArgument', `expects one directory (got ${positionals.length})`, {
      operation: 'gen-workload',
    });
  }
  const seedText = values.seed ?? '1';
  const fraction = values['rewrite-fraction'];
  const options: GenerateOptions = {
    seed: /^\d+$/.test(seedText) && Number.isSafeInteger(Number(seedText)) ? Number(seedText) : seedText,
    version: integer('version', values.version) ?? 0,
    totalBytes: parseSize(values.size ?? '3GiB', '--size'),
    preset: (values.preset ?? 'default') as WorkloadPreset,
    pidChurn: values['pid-churn'] ?? false,
    fsync: values.fsync ?? false,
  };
  if (fraction !== undefined) options.rewriteFraction = Number(fraction);
  const oracleFrom = integer('oracle-from', values['oracle-from']);
  return { dir: positionals[0]!, options, ...(oracleFrom === undefined ? {} : { oracleFrom }) };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      seed: { type: 'string' },
      version: { type: 'string' },
      size: { type: 'string' },
      preset: { type: 'string' },
      'rewrite-fraction': { type: 'string' },
      'pid-churn': { type: 'boolean' },
      'oracle-from': { type: 'string' },
      fsync: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/**
 * Runs `gen-workload`: writes the checkpoint, prints one JSON line (the {@link GenerateResult},
 * plus `oracle` when `--oracle-from` is given) and returns the exit code (2 for bad arguments).
 */
export async function genWorkloadMain(
  argv: string[],
  out: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  err: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    out(GEN_WORKLOAD_USAGE);
    return 0;
  }
  try {
    const { dir, options, oracleFrom } = parseGenWorkloadArgs(argv);
    const result = await generateCheckpoint(dir, options);
    const extra =
      oracleFrom === undefined
        ? {}
        : { oracle: oracle(options.seed, oracleFrom, options.version ?? 0, options) };
    out(JSON.stringify({ ...result, ...extra }));
    return 0;
  } catch (error) {
    err(`gen-workload: ${(error as Error).message}`);
    if (StoreError.is(error, 'InvalidArgument')) {
      err(GEN_WORKLOAD_USAGE);
      return 2;
    }
    return 1;
  }
}
