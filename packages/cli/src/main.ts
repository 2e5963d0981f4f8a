import { readFileSync } from 'node:fs';
import tab from '@bomb.sh/tab/commander';
import { Command, CommanderError, Help } from 'commander';
import { durationArg, integerArg, sizeArg, timeoutArg } from './arguments.js';
import { cacheCommand } from './commands/cache.js';
import { deleteCommand } from './commands/delete.js';
import { existsCommand } from './commands/exists.js';
import { gcCommand } from './commands/gc.js';
import { lsCommand } from './commands/ls.js';
import { pullCommand } from './commands/pull.js';
import { pushCommand } from './commands/push.js';
import { rotateKeyCommand } from './commands/rotate-key.js';
import { verifyCommand } from './commands/verify.js';
import type { CliContext } from './context.js';
import { describeWithEnvironment, optionsFromEnvironment } from './environment.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { examples, PROGRAM_HELP } from './help.js';
import { reporterFor } from './session.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

/** The `ckpt` program: global options and every command, reporting usage errors by throwing. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('ckpt')
    .description(
      'Store CRIU checkpoint directories in object stores (a filesystem, S3, Google Cloud Storage or Azure Blob Storage).',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .option('-s, --store <url>', 'the store URL (default: $CKPT_STORE, the config file, then ./.ckpt-store)')
    .option(
      '-c, --config <path>',
      'the config file (default: ./ckpt.config.json when present, else $XDG_CONFIG_HOME/ckpt/config.json)',
    )
    .option(
      '--state-dir <dir>',
      'where ckpt keeps its records of local directories (default: $CKPT_STATE_DIR, else $XDG_STATE_HOME/ckpt, else ~/.local/state/ckpt)',
    )
    .option(
      '--cache <dir>',
      "a chunk cache shared by every model and ckpt process of the host: pulls read from it before the store, pushes and pulls fill it (default: the config file's cache.dir, else none)",
    )
    .option(
      '--cache-size <size>',
      "bytes the cache may hold, least recently used chunks evicted first (default: the config file's cache.size, else 20GiB)",
      sizeArg,
    )
    .option('--json', 'print exactly one JSON object on stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('-v, --verbose', 'log the store used and each phase on stderr')
    .option('--debug', 'like --verbose, and print stack traces')
    .option(
      '--concurrency <n>',
      "parallel store requests (default: the config file's sync.concurrency, else the store's preference)",
      integerArg(1, 1024),
    )
    .option(
      '--retries <n>',
      "retries of a store request that failed on a transient error (default: the config file's sync.attempts - 1, else 4; 0: never)",
      integerArg(0, 99),
    )
    .option(
      '--timeout <duration>',
      "how long a store request may wait for an answer, or a transfer go without progress, before it fails and is retried (default: the store's timeout setting, else 60s)",
      timeoutArg,
    )
    .option('--progress', 'draw progress bars even when stderr is not a terminal')
    .option(
      '--progress-interval <duration>',
      'when stderr is not a terminal, print how far a transfer got this often (default 30s; 0: never)',
      durationArg,
    )
    .option(
      '--encryption-key-file <path>',
      "a file holding the store's encryption key (default: $CKPT_ENCRYPTION_KEY, then the config file's encryption.keyFile)",
    )
    .option(
      '--metrics-file <path>',
      "write the run's figures to this file in Prometheus text format (for node-exporter's textfile collector)",
    )
    .helpOption('-h, --help', 'show help')
    .helpCommand(false)
    .configureHelp({
      showGlobalOptions: true,
      optionDescription(option) {
        return describeWithEnvironment(Help.prototype.optionDescription.call(this, option), option);
      },
    })
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', PROGRAM_HELP);
  for (const add of [
    pushCommand,
    pullCommand,
    existsCommand,
    lsCommand,
    verifyCommand,
    deleteCommand,
    gcCommand,
    cacheCommand,
    rotateKeyCommand,
  ]) {
    add(program, ctx);
  }
  tab(program, { completionCommandName: 'completion' });
  program.commands
    .find((command) => command.name() === 'completion')
    ?.description('print a shell completion script: bash, zsh, fish or powershell')
    .addHelpText(
      'after',
      examples(
        ['source <(ckpt completion bash)', 'in ~/.bashrc'],
        ['ckpt completion zsh > ~/.zfunc/_ckpt', 'zsh, with ~/.zfunc in fpath'],
        ['ckpt completion fish > ~/.config/fish/completions/ckpt.fish', 'fish'],
      ),
    );
  optionsFromEnvironment(program, ctx.env);
  for (const command of program.commands) {
    command.exitOverride((err) => {
      throw new UsageError(err, command.name());
    });
  }
  return program;
}

/** A commander usage error as one line, naming the command it happened in. */
class UsageError extends CommanderError {
  constructor(err: CommanderError, command?: string) {
    const detail = err.message
      .replace(/^error:\s*/, '')
      .replace(/\s*\(Did you mean (.*)\?\)/, ' (did you mean $1?)')
      .replace(/\.$/, '');
    const help = command ? `ckpt ${command} --help` : 'ckpt --help';
    super(err.exitCode, err.code, `${command ? `${command}: ` : ''}${detail} (see '${help}')`);
  }
}

/** Runs `ckpt` with `argv` (as in `process.argv`) and resolves to the exit code. */
export async function run(
  argv: string[] = process.argv,
  cwd = process.cwd(),
  env = process.env,
): Promise<number> {
  const ctx: CliContext = { cwd, env, exitCode: ExitCode.Ok };
  try {
    await buildProgram(ctx).parseAsync(argv);
    return ctx.exitCode;
  } catch (err) {
    if (err instanceof CommanderError && HELP_CODES.has(err.code)) {
      return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
    }
    const usage = err instanceof CommanderError && !(err instanceof UsageError) ? new UsageError(err) : err;
    reporterFor(globalsFrom(argv)).error(usage);
    return exitCodeFor(err);
  }
}

const HELP_CODES = new Set(['commander.helpDisplayed', 'commander.help', 'commander.version']);

/** The output flags from raw arguments, for errors raised before commander parsed them. */
function globalsFrom(argv: string[]) {
  return { json: argv.includes('--json'), debug: argv.includes('--debug') };
}
