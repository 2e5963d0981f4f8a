import { StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import { countArg, durationArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { examples } from '../help.js';
import { gcSummary } from '../output/summary.js';
import { runCommand } from '../session.js';

interface GcFlags {
  keep?: number;
  grace?: number;
  dryRun?: boolean;
  all?: boolean;
  force?: boolean;
}

/**
 * Below this grace, a pull still reading a generation that gc expires can fail, and so can pushes
 * of ckpt releases older than push leases: such a grace must be asked for with `--force`.
 */
const SAFE_GRACE_MS = 5 * 60_000;

/** `ckpt gc [--keep <n>] [--grace <duration>] [--dry-run]`: expire old generations, free unreferenced data. */
export function gcCommand(program: Command, ctx: CliContext): void {
  program
    .command('gc')
    .description(
      'expire old generations and delete data no generation references (safe with concurrent pushes)',
    )
    .option('-k, --keep <n>', 'generations to keep per model, newest first (default: all)', countArg)
    .option(
      '--grace <duration>',
      'never delete data younger than this, e.g. 30m, 6h, 2d (default: 6h)',
      durationArg,
    )
    .option('-n, --dry-run', 'report what would be deleted, delete nothing')
    .option('-a, --all', 'allow --keep 0, which removes every generation of every model')
    .option('-f, --force', 'allow a grace below 5m (pulls of expired generations in flight may fail)')
    .addHelpText(
      'after',
      examples(
        ['ckpt gc', 'free the data of removed generations'],
        ['ckpt gc --keep 2', 'keep the two newest generations per model'],
        ['ckpt gc --keep 1 --grace 30m --dry-run', 'what a tighter policy would delete'],
      ),
    )
    .action((flags: GcFlags, cmd: Command) =>
      runCommand(
        ctx,
        cmd,
        async ({ checkpoints, signal, onProgress }) => {
          const result = await checkpoints.gc({
            signal,
            onProgress,
            keep: flags.keep,
            grace: flags.grace,
            dryRun: flags.dryRun,
            all: flags.all,
          });
          return { human: gcSummary(result, Boolean(flags.dryRun)), json: result };
        },
        async () => {
          if (flags.keep === 0 && !flags.all)
            throw new StoreError(
              'InvalidArgument',
              '--keep 0 removes every generation of every model: pass --all to do so',
              { operation: 'gc' },
            );
          if (flags.grace !== undefined && flags.grace < SAFE_GRACE_MS && !flags.force && !flags.dryRun)
            throw new StoreError(
              'InvalidArgument',
              'a grace below 5m can break pulls in flight of expired generations: pass --force to use it',
              { operation: 'gc' },
            );
        },
      ),
    );
}
