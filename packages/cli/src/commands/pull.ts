import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { examples } from '../help.js';
import { pullSummary } from '../output/summary.js';
import { runCommand } from '../session.js';

interface PullFlags {
  generation?: string;
  force?: boolean;
  dryRun?: boolean;
}

/** `ckpt pull <model> <dir> [--generation <id>] [--force] [--dry-run]`: restore a checkpoint directory exactly. */
export function pullCommand(program: Command, ctx: CliContext): void {
  program
    .command('pull')
    .description("download a model's checkpoint into a directory, exactly as it was pushed (verified)")
    .argument('<model>', 'the model to pull')
    .argument('<dir>', 'the target directory')
    .option('-g, --generation <id>', 'a specific generation (default: the latest)')
    .option('-f, --force', 'replace the directory even if it holds files ckpt did not write')
    .option('-n, --dry-run', 'print what the pull would add, change and remove; change nothing')
    .addHelpText(
      'after',
      examples(
        ['ckpt pull llama-8b /var/lib/llmux/ckpt/llama-8b', 'the latest generation'],
        ['ckpt pull llama-8b ./restore --generation 01J9Z3…', 'a specific generation'],
        ['ckpt pull llama-8b ./restore --store s3://ckpts/prod --json', 'from S3, machine-readable'],
        ['ckpt pull llama-8b ./restore --dry-run', 'what a pull would add, change and remove'],
      ),
    )
    .action((model: string, dir: string, flags: PullFlags, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal, onProgress }) => {
        const path = dir.trim() === '' ? dir : resolve(ctx.cwd, dir);
        const result = await checkpoints.pull(model, path, {
          signal,
          onProgress,
          generation: flags.generation,
          force: flags.force,
          dryRun: flags.dryRun,
        });
        return { human: pullSummary(result, dir), json: { ...result, dir: path } };
      }),
    );
}
