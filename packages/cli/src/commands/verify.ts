import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from '../context.js';
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
        const human = verifySummary(result, repairCommand(model, cmd.optsWithGlobals<GlobalOptions>()));
        if (result.ok) return { human, json: result };
        return { human, json: result, exitCode: ExitCode.Integrity, failure: verifyFailure(result) };
      }),
    );
}

/** The push that repairs `model` in the store this command used: its store options as given. */
function repairCommand(model: string, globals: GlobalOptions): string {
  const words = ['ckpt', 'push', '--repair', '<dir>', '--model', shellWord(model)];
  if (globals.store !== undefined) words.push('--store', shellWord(globals.store));
  if (globals.config !== undefined) words.push('--config', shellWord(globals.config));
  return words.join(' ');
}

/** `text` as one word for a POSIX shell: single-quoted unless it is plainly safe. */
function shellWord(text: string): string {
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}
