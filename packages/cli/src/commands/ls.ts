import type { Checkpoints, GenerationInfo, ModelInfo } from '@ckpt/core';
import type { Command } from 'commander';
import type { CliContext } from '../context.js';
import { ExitCode } from '../exit-codes.js';
import { formatBytes, formatCount } from '../format.js';
import { examples } from '../help.js';
import { formatTable, formatTime } from '../output/table.js';
import { type Outcome, runCommand } from '../session.js';

/** `ckpt ls [model]`: the models, or one model's generations (newest first as the engine lists them). */
export function lsCommand(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description("list the models in the store, or a model's generations (time, files, size)")
    .argument('[model]', 'list the generations of this model')
    .addHelpText(
      'after',
      examples(
        ['ckpt ls', 'every model with its latest generation'],
        ['ckpt ls llama-8b', 'the generations of one model'],
        ['ckpt ls llama-8b --json', '{"model":…,"generations":[…]}'],
      ),
    )
    .action((model: string | undefined, _flags: object, cmd: Command) =>
      runCommand(ctx, cmd, ({ checkpoints, signal, storeName }) =>
        model === undefined
          ? listModels(checkpoints, signal, storeName)
          : listGenerations(checkpoints, model, signal, storeName),
      ),
    );
}

async function listModels(
  checkpoints: Checkpoints,
  signal: AbortSignal,
  storeName: string,
): Promise<Outcome> {
  const models = (await checkpoints.list({ signal })).sort((x, y) => byOrgThenName(x.model, y.model));
  const rows = models.map((m: ModelInfo) => [
    m.model,
    formatCount(m.generations),
    m.latest.generation,
    formatTime(m.latest.createdAt),
    formatCount(m.latest.files),
    formatBytes(m.latest.bytes),
  ]);
  const human = models.length
    ? formatTable([['MODEL', 'GENERATIONS', 'LATEST', 'CREATED', 'FILES', 'SIZE'], ...rows])
    : [`no checkpoints in ${storeName}`];
  return { human, json: { models } };
}

async function listGenerations(
  checkpoints: Checkpoints,
  model: string,
  signal: AbortSignal,
  storeName: string,
): Promise<Outcome> {
  const generations = await checkpoints.generations(model, { signal });
  const rows = generations.map((g: GenerationInfo) => [
    g.generation,
    formatTime(g.createdAt),
    formatCount(g.files),
    formatBytes(g.bytes),
    formatBytes(g.storedBytes),
    Object.entries(g.labels)
      .map(([k, v]) => `${k}=${v}`)
      .join(','),
  ]);
  if (generations.length === 0) {
    return {
      human: [],
      json: { model, generations },
      exitCode: ExitCode.NotFound,
      failure: `ls ${model}: no checkpoint of this model in ${storeName}`,
    };
  }
  return {
    human: formatTable([['GENERATION', 'CREATED', 'FILES', 'SIZE', 'STORED', 'LABELS'], ...rows]),
    json: { model, generations },
  };
}

/**
 * An org's models right after the flat model of the same name (`a`, `a/b`, `a-b`): the store's key
 * order, and plain string order, put `a-b` between them ("-" sorts before "/").
 */
function byOrgThenName(x: string, y: string): number {
  const [a, b] = [x.split('/'), y.split('/')];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  }
  return a.length - b.length;
}
