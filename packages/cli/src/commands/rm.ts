import type { Command } from 'commander';
import { examples } from '../help.js';
import { deleteSummary } from '../output/summary.js';
import { type CliContext, runCommand } from '../session.js';

/** `ckpt rm <model> [--generation <id>]`: hide a model's generations; `gc` frees their data later. */
export function rmCommand(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description("remove a model's checkpoint (all generations, or one); 'ckpt gc' frees the data later")
    .argument('<model>', 'the model to remove')
    .option('-g, --generation <id>', 'remove only this generation')
    .addHelpText(
      'after',
      examples(
        ['ckpt rm llama-8b', 'every generation of the model'],
        ['ckpt rm llama-8b --generation 01J9Z3…', 'one generation'],
      ),
    )
    .action((model: string, flags: { generation?: string }, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal }) => {
        const result = await checkpoints.delete(model, { signal, generation: flags.generation });
        return { human: deleteSummary(result), json: result };
      }),
    );
}
