import { type Checkpoints, type FileInfo, type GenerationInfo, type ModelInfo, StoreError } from '@ckpt/core';
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
    .option('-g, --generation <id>', 'only this generation of the model')
    .option(
      '--files',
      "list the files of the model's latest generation (or of --generation): mode, size, time, path",
    )
    .addHelpText(
      'after',
      examples(
        ['ckpt ls', 'every model with its latest generation'],
        ['ckpt ls llama-8b', 'the generations of one model'],
        ['ckpt ls llama-8b --files', 'the files of its latest generation'],
        ['ckpt ls llama-8b -g <id> --files --json', '{"model":…,"generation":…,"files":[…]}'],
      ),
    )
    .action((model: string | undefined, flags: LsFlags, cmd: Command) =>
      runCommand(
        ctx,
        cmd,
        ({ checkpoints, signal, storeName }) => {
          if (model === undefined) return listModels(checkpoints, signal, storeName);
          if (flags.files) return listFiles(checkpoints, model, flags.generation, signal);
          return listGenerations(checkpoints, model, flags.generation, signal, storeName);
        },
        async () => {
          if (model === undefined && (flags.files || flags.generation))
            throw new StoreError('InvalidArgument', '--files and --generation need a model', {
              operation: 'ls',
              key: '',
            });
        },
      ),
    );
}

interface LsFlags {
  generation?: string;
  files?: boolean;
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
  only: string | undefined,
  signal: AbortSignal,
  storeName: string,
): Promise<Outcome> {
  const all = await checkpoints.generations(model, { signal });
  const generations = only === undefined ? all : all.filter((g) => g.generation === only);
  if (only !== undefined && generations.length === 0 && all.length > 0)
    throw new StoreError('NotFound', `no generation ${only} of this model`, { operation: 'ls', key: model });
  const rows = generations.map((g: GenerationInfo) => [
    g.generation,
    formatTime(g.createdAt),
    formatCount(g.files),
    formatBytes(g.bytes),
    g.addedBytes === undefined ? '-' : formatBytes(g.addedBytes),
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
    human: formatTable([['GENERATION', 'CREATED', 'FILES', 'SIZE', 'ADDED', 'LABELS'], ...rows]),
    json: { model, generations },
  };
}

async function listFiles(
  checkpoints: Checkpoints,
  model: string,
  generation: string | undefined,
  signal: AbortSignal,
): Promise<Outcome> {
  const listing = await checkpoints.files(model, { generation, signal });
  const rows = listing.files.map((f: FileInfo) =>
    f.type === 'symlink'
      ? [formatMode(f), '', '', `${f.path} -> ${f.target}`]
      : [formatMode(f), f.type === 'file' ? formatBytes(f.size) : '', formatTime(f.mtime), f.path],
  );
  return { human: formatTable([['MODE', 'SIZE', 'MODIFIED', 'PATH'], ...rows]), json: listing };
}

/** `-rw-r--r--`, `drwxr-xr-x`, `lrwxrwxrwx`, as `ls -l` shows them. */
function formatMode(file: FileInfo): string {
  if (file.type === 'symlink') return 'lrwxrwxrwx';
  const bits = [...'rwxrwxrwx'].map((letter, i) => (file.mode & (0o400 >> i) ? letter : '-')).join('');
  return (file.type === 'dir' ? 'd' : '-') + bits;
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
