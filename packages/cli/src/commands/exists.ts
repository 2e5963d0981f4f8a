import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { examples } from '../help.js';
import { runCommand } from '../session.js';

/** `ckpt exists <model>`: exit 0 when a complete checkpoint exists, 3 when not. */
export function existsCommand(program: Command, ctx: CliContext): void {
  program
    .command('exists')
    .description('exit 0 when a complete checkpoint of the model exists, 3 when not')
    .argument('<model>', 'the model to look for')
    .addHelpText(
      'after',
      examples(
        ['ckpt exists llama-8b --quiet && echo restorable', 'in a script'],
        ['ckpt exists llama-8b --json', 'prints {"model":"llama-8b","exists":true}'],
      ),
    )
    .action((model: string, _flags: object, cmd: Command) =>
      runCommand(ctx, cmd, async ({ checkpoints, signal, storeName }) => {
        const exists = await checkpoints.exists(model, { signal });
        return {
          human: exists
            ? `${model}: a complete checkpoint exists`
            : `${model}: no complete checkpoint in ${storeName}`,
          json: { model, exists },
          exitCode: exists ? ExitCode.Ok : ExitCode.NotFound,
        };
      }),
    );
}
