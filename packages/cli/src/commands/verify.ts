import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { examples } from '../help.js';
import { verifyFailure, verifySummary } from '../output/summary.js';
import { runCommand } from '../session.js';

/** `ckpt verify <model> [--generation <id>]`: re-read and check every stored byte; exit 4 on a problem. */
export function verifyCommand(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description(
      're-read every byte of a checkpoint in the store and check sizes and hashes (exit 4 on a problem)',
    )
    .argument('<model>', 'the model to verify')
    .option('-g, --generation <id>', 'a specific generation (default: the latest)')
    .addHelpText(
      'after',
      examples(
        ['ckpt verify llama-8b', 'the latest generation'],
        ['ckpt verify llama-8b --generation 01J9Z3… --json', 'one generation, machine-readable'],
      ),
    )
    .action((model: string, flags: { generation?: string }, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal, onProgress }) => {
        const result = await checkpoints.verify(model, { signal, onProgress, generation: flags.generation });
        if (result.ok) return { human: verifySummary(result), json: result };
        return {
          human: verifySummary(result),
          json: result,
          exitCode: ExitCode.Integrity,
          failure: verifyFailure(result),
        };
      }),
    );
}
