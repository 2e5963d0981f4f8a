import { StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../help.js';
import { deleteSummary } from '../output/summary.js';
import { runCommand } from '../session.js';

interface DeleteFlags {
  generation?: string;
  all?: boolean;
  dryRun?: boolean;
}

/** `ckpt delete <model> (--generation <id> | --all) [--dry-run]`: hide a model's generations; `gc` frees their data later. */
export function deleteCommand(program: Command, ctx: CliContext): void {
  program
    .command('delete')
    .description("delete a model's checkpoint (all generations, or one); 'ckpt gc' frees the data later")
    .argument('<model>', 'the model to delete')
    .option('-g, --generation <id>', 'delete only this generation')
    .option('-a, --all', 'delete every generation of the model')
    .option('-n, --dry-run', 'print the generations that would be deleted; delete nothing')
    .addHelpText(
      'after',
      examples(
        ['ckpt delete llama-8b --all', 'every generation of the model'],
        ['ckpt delete llama-8b --all --dry-run', 'the generations that would be deleted'],
        ['ckpt delete llama-8b --generation 01J9Z3…', 'one generation'],
      ),
    )
    .action((model: string, flags: DeleteFlags, cmd: Command) =>
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
              'name a generation with --generation, or pass --all to delete every generation',
              { operation: 'delete' },
            );
          if (flags.generation !== undefined && flags.all)
            throw new StoreError('InvalidArgument', '--generation and --all exclude each other', {
              operation: 'delete',
            });
        },
      ),
    );
}
