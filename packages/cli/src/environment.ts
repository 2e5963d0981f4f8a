import { type Command, CommanderError, type Option } from 'commander';

/**
 * Options that no environment variable sets: `--store` and `--state-dir` have their own
 * (`CKPT_STORE`, `CKPT_STATE_DIR`, read where the store and the state directory are resolved, so
 * `--verbose` can name the origin), and `--force` and `--all` are acknowledgements a person gives
 * for one command: one left in an environment would remove data no one meant to remove.
 */
const NO_ENVIRONMENT = new Set(['--store', '--state-dir', '--force', '--all', '--help', '--version']);

const TRUE = new Set(['1', 'true', 'yes', 'on']);
const FALSE = new Set(['', '0', 'false', 'no', 'off']);

/** `--metrics-file` → `CKPT_METRICS_FILE`; undefined for options no variable sets. */
export function environmentName(option: Option): string | undefined {
  if (!option.long || NO_ENVIRONMENT.has(option.long)) return undefined;
  return `CKPT_${option.long.slice(2).replaceAll('-', '_').toUpperCase()}`;
}

/**
 * Lets a `CKPT_<OPTION>` variable of `env` stand for each option not given on the command line,
 * the global options and those of the command that runs: `CKPT_MODEL=llama ckpt push d`,
 * `CKPT_JSON=1`. A flag is on for `1`, `true`, `yes`, `on` and off for `0`, `false`, `no`,
 * `off` or empty; the values of a list option (`--dedup-with`) are separated by commas.
 */
export function optionsFromEnvironment(program: Command, env: NodeJS.ProcessEnv): void {
  program.hook('preSubcommand', (_program, command) => {
    apply(program, env);
    apply(command, env);
  });
}

/** `description` of `option` for help, naming its variable: `print … (env: CKPT_JSON)`. */
export function describeWithEnvironment(description: string, option: Option): string {
  const name = environmentName(option);
  return name ? `${description} (env: ${name})` : description;
}

function apply(command: Command, env: NodeJS.ProcessEnv): void {
  for (const option of command.options) {
    const name = environmentName(option);
    const value = name === undefined ? undefined : env[name];
    const key = option.attributeName();
    if (value === undefined || !['default', undefined].includes(command.getOptionValueSource(key))) continue;
    command.setOptionValueWithSource(key, parse(option, value, name as string), 'env');
  }
}

function parse(option: Option, value: string, name: string): unknown {
  if (option.isBoolean()) {
    const word = value.trim().toLowerCase();
    if (TRUE.has(word)) return !option.negate;
    if (FALSE.has(word)) return option.negate;
    throw new CommanderError(2, 'ckpt.environment', `${name}=${value} is not a yes or no (use 1 or 0)`);
  }
  if (option.variadic) return value.split(',').map((part) => part.trim());
  return option.parseArg ? option.parseArg(value, undefined) : value;
}
