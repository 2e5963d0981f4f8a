import { resolve } from 'node:path';
import type { Command } from 'commander';
import { examples } from '../help.js';
import { pullSummary } from '../output/summary.js';
import { type CliContext, runCommand } from '../session.js';

/** `ckpt pull <model> <dir> [--generation <id>]`: restore a checkpoint directory exactly. */
export function pullCommand(program: Command, ctx: CliContext): void {
  program
    .command('pull')
    .description("download a model's checkpoint into a directory, exactly as it was pushed (verified)")
    .argument('<model>', 'the model to pull')
    .argument('<dir>', 'the target directory')
    .option('-g, --generation <id>', 'a specific generation (default: the latest)')
    .addHelpText(
      'after',
      examples(
        ['ckpt pull llama-8b /var/lib/llmux/ckpt/llama-8b', 'the latest generation'],
        ['ckpt pull llama-8b ./restore --generation 01J9Z3…', 'a specific generation'],
        ['ckpt pull llama-8b ./restore --store s3://ckpts/prod --json', 'from S3, machine-readable'],
      ),
    )
    .action((model: string, dir: string, flags: { generation?: string }, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal, onProgress }) => {
        const path = resolve(ctx.cwd, dir);
        const result = await checkpoints.pull(model, path, {
          signal,
          onProgress,
          generation: flags.generation,
        });
        return { human: pullSummary(result, dir), json: { ...result, dir: path } };
      }),
    );
}
