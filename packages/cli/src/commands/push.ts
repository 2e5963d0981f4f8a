import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import { labelArg } from '../arguments.js';
import type { CliContext } from '../context.js';
import { examples } from '../help.js';
import { pushSummary, unrepairedWarning } from '../output/summary.js';
import { runCommand } from '../session.js';

interface PushFlags {
  model: string;
  label?: Record<string, string>;
  expectLatest?: string;
  dedupWith?: string[];
  repair?: boolean;
}

/** `ckpt push <dir> --model <name>`: upload a checkpoint directory as a new generation. */
export function pushCommand(program: Command, ctx: CliContext): void {
  program
    .command('push')
    .description('upload a checkpoint directory as a new generation of a model (atomic, incremental)')
    .argument('<dir>', 'the checkpoint directory (subdirectories included)')
    .requiredOption('-m, --model <name>', 'the model the checkpoint belongs to: name or org/name')
    .option('-l, --label <key=value>', 'a label stored with the generation (repeatable)', labelArg)
    .option(
      '--expect-latest <generation>',
      "commit only if the model's latest generation is still this one ('none': no generation); else exit 5",
    )
    .option(
      '--dedup-with <models...>',
      "also reuse data of these models' latest generations ('*': every model), e.g. the same weights under another name",
    )
    .option(
      '--repair',
      "read back and hash every stored chunk this push could reuse (the latest generation's data) first, and upload damaged ones again from <dir>",
    )
    .addHelpText(
      'after',
      examples(
        ['ckpt push /var/lib/llmux/ckpt/llama-8b --model llama-8b', 'push to the default store'],
        ['ckpt push ./ckpt --model qwen-32b --store s3://ckpts/prod', 'push to S3'],
        ['ckpt push ./ckpt -m qwen-32b --label host=$(hostname) --json', 'machine-readable result'],
        ['ckpt push ./ckpt -m qwen-32b --expect-latest "$LAST"', 'exit 5 if another host pushed since'],
        [
          'ckpt push ./ckpt -m qwen-32b-lora --dedup-with qwen-32b',
          'store only what differs from another model',
        ],
        ['ckpt push --repair ./ckpt -m qwen-32b', 'after verify exit 4: a new generation that verifies'],
      ),
    )
    .action((dir: string, flags: PushFlags, cmd: Command) => {
      const path = resolve(ctx.cwd, dir);
      return runCommand(
        ctx,
        cmd,
        async ({ checkpoints, signal, onProgress, reporter }) => {
          const result = await checkpoints.push(flags.model, path, {
            signal,
            onProgress,
            labels: flags.label,
            expectLatest: flags.expectLatest === 'none' ? null : flags.expectLatest,
            dedupWith: flags.dedupWith,
            repair: flags.repair,
          });
          const warning = unrepairedWarning(result);
          if (warning) reporter.notice(warning);
          // a push of an unchanged tree may still commit (other times or labels, chunks stored again)
          return {
            human: pushSummary(result),
            json: { created: result.generation !== result.parent, ...result },
          };
        },
        () => requireDirectory(path, dir),
      );
    });
}

/** Fails with `InvalidArgument` (exit 2) before any store is opened when `path` is not a directory. */
async function requireDirectory(path: string, shown: string): Promise<void> {
  if (shown.trim() === '')
    throw new StoreError('InvalidArgument', 'the directory is an empty path', {
      operation: 'push',
      key: '""',
    });
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new StoreError('InvalidArgument', 'no such directory', { operation: 'push', key: shown });
  if (!info.isDirectory())
    throw new StoreError('InvalidArgument', 'not a directory', { operation: 'push', key: shown });
}
