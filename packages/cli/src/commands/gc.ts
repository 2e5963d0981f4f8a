import type { Command } from 'commander';
import { countArg, durationArg } from '../arguments.js';
import { examples } from '../help.js';
import { gcSummary } from '../output/summary.js';
import { type CliContext, runCommand } from '../session.js';

interface GcFlags {
  keep?: number;
  grace?: number;
  dryRun?: boolean;
}

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
    .addHelpText(
      'after',
      examples(
        ['ckpt gc', 'free the data of removed generations'],
        ['ckpt gc --keep 2', 'keep the two newest generations per model'],
        ['ckpt gc --keep 1 --grace 30m --dry-run', 'what a tighter policy would delete'],
      ),
    )
    .action((flags: GcFlags, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal, onProgress }) => {
        const result = await checkpoints.gc({
          signal,
          onProgress,
          keep: flags.keep,
          grace: flags.grace,
          dryRun: flags.dryRun,
        });
        return { human: gcSummary(result, Boolean(flags.dryRun)), json: result };
      }),
    );
}
