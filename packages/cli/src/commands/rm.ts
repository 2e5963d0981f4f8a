import { StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import { examples } from '../help.js';
import { deleteSummary } from '../output/summary.js';
import { type CliContext, runCommand } from '../session.js';

interface RmFlags {
  generation?: string;
  all?: boolean;
  dryRun?: boolean;
}

/** `ckpt rm <model> (--generation <id> | --all) [--dry-run]`: hide a model's generations; `gc` frees their data later. */
export function rmCommand(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description("remove a model's checkpoint (all generations, or one); 'ckpt gc' frees the data later")
    .argument('<model>', 'the model to remove')
    .option('-g, --generation <id>', 'remove only this generation')
    .option('-a, --all', 'remove every generation of the model')
    .option('-n, --dry-run', 'print the generations that would be removed; remove nothing')
    .addHelpText(
      'after',
      examples(
        ['ckpt rm llama-8b --all', 'every generation of the model'],
        ['ckpt rm llama-8b --all --dry-run', 'the generations that would be removed'],
        ['ckpt rm llama-8b --generation 01J9Z3…', 'one generation'],
      ),
    )
    .action((model: string, flags: RmFlags, cmd: Command) =>
      runCommand(
        ctx,
        cmd,
        async ({ checkpoints, signal }) => {
          const result = await checkpoints.delete(model, { signal, ...flags });
          return { human: deleteSummary(result, Boolean(flags.dryRun)), json: result };
        },
        async () => {
          if (flags.generation === undefined && !flags.all)
            throw new StoreError(
              'InvalidArgument',
              'name a generation with --generation, or pass --all to remove every generation',
              { operation: 'rm' },
            );
          if (flags.generation !== undefined && flags.all)
            throw new StoreError('InvalidArgument', '--generation and --all exclude each other', {
              operation: 'rm',
            });
        },
      ),
    );
}
