/**
 * What every command and the store resolution share. Its own module so that `store.ts` (which
 * opens the store from these) and `session.ts` (which runs a command on that store) import it
 * without importing each other.
 */

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  store?: string;
  config?: string;
  stateDir?: string;
  cache?: string;
  cacheSize?: number;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  debug?: boolean;
  metricsFile?: string;
  encryptionKeyFile?: string;
  concurrency?: number;
  retries?: number;
  /** `--timeout` in ms. */
  timeout?: number;
  progress?: boolean;
  progressInterval?: number;
}

/** Where `ckpt` runs; `exitCode` is set by the command that ran. */
export interface CliContext {
  cwd: string;
  env: NodeJS.ProcessEnv;
  exitCode: number;
}
