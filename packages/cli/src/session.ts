import { resolve } from 'node:path';
import {
  Checkpoints,
  defaultStateDir,
  type ObjectStore,
  type ProgressEvent,
  type ResolvedStoreConfig,
} from '@ckpt/core';
import { findConfigFile, loadConfigFile } from '@ckpt/core/cli';
import type { Command } from 'commander';
import type { CliContext, GlobalOptions } from './context.js';
import { ExitCode, exitCodeFor } from './exit-codes.js';
import { trapInterrupts } from './interrupt.js';
import { writeMetricsFile } from './output/metrics-file.js';
import type { ProgressHandler } from './output/progress.js';
import { Reporter } from './output/reporter.js';
import { openConfiguredStore } from './store.js';
import { routeWarnings } from './warnings.js';

/** What a command gets: the engine on the resolved store, the abort signal and a progress sink. */
export interface Session {
  checkpoints: Checkpoints;
  /** The store's name (`file:///…`, `s3://bucket/prefix`): every "not found" names it. */
  storeName: string;
  signal: AbortSignal;
  /** Pass as `onProgress` to the engine: bars on a TTY, phase lines with `--verbose`. */
  onProgress(event: ProgressEvent): void;
  reporter: Reporter;
  /** The user's encryption key, when one was given (`ckpt rotate-key` needs it). */
  encryptionKey?: string | Uint8Array;
}

/** What a command hands back: the human and the JSON form of its result, and how it ended. */
export interface Outcome {
  human: string | string[];
  json: object;
  /** Default 0. */
  exitCode?: number;
  /** One line for stderr when the command did not succeed (a missing model, a verify failure). */
  failure?: string;
}

/** The output mode from the global options. */
export function reporterFor(globals: GlobalOptions): Reporter {
  return new Reporter({
    json: Boolean(globals.json),
    quiet: Boolean(globals.quiet),
    verbose: Boolean(globals.verbose),
    debug: Boolean(globals.debug),
    progress: Boolean(globals.progress),
    progressIntervalMs: globals.progressInterval,
  });
}

/**
 * Runs one command: resolves and opens the store (naming it in the first verbose line), traps
 * Ctrl-C into an abort signal, prints the outcome or the error, closes everything and sets
 * `ctx.exitCode`. `precheck` validates local arguments before any store is opened.
 */
export async function runCommand(
  ctx: CliContext,
  cmd: Command,
  fn: (session: Session) => Promise<Outcome>,
  precheck?: () => Promise<void>,
): Promise<void> {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const reporter = reporterFor(globals);
  let progress: ProgressHandler | undefined;
  const interrupt = trapInterrupts((message) => {
    progress?.stop();
    reporter.notice(message);
  });
  const restoreWarnings = routeWarnings((message) => reporter.info(message));
  let store: ObjectStore | undefined;
  let checkpoints: Checkpoints | undefined;
  let result: object | undefined;
  let retries = 0;
  const started = performance.now();
  try {
    await precheck?.();
    const opened = await openConfiguredStore(globals, ctx, reporter, () => retries++);
    store = opened.store;
    const stateDir = globals.stateDir ? resolve(ctx.cwd, globals.stateDir) : defaultStateDir(ctx.env);
    checkpoints = new Checkpoints(store, { stateDir, ...opened.options });
    const session: Session = {
      checkpoints,
      storeName: store.name,
      signal: interrupt.signal,
      reporter,
      ...(opened.options.encryption ? { encryptionKey: opened.options.encryption.key } : {}),
      onProgress: (event) => {
        progress ??= reporter.progress();
        progress.onProgress(event);
      },
    };
    const outcome = await fn(session);
    result = outcome.json;
    progress?.stop();
    reporter.result(outcome.human, outcome.json);
    if (outcome.failure) reporter.failure(outcome.failure);
    ctx.exitCode = outcome.exitCode ?? ExitCode.Ok;
  } catch (err) {
    progress?.stop();
    reporter.error(err, store?.name);
    ctx.exitCode = interrupt.exitCode ?? exitCodeFor(err);
  } finally {
    const storeStats = store?.stats?.();
    await closeQuietly(reporter, checkpoints, store);
    if (globals.metricsFile) {
      const path = resolve(ctx.cwd, globals.metricsFile);
      const run = { operation: cmd.name(), model: modelOf(cmd), store: store?.name, exitCode: ctx.exitCode };
      await writeMetricsFile(path, {
        ...run,
        durationMs: performance.now() - started,
        retries,
        ...(storeStats ? { storeStats } : {}),
        result,
      }).catch((err: Error) => reporter.notice(`could not write the metrics file ${path}: ${err.message}`));
    }
    interrupt.dispose();
    restoreWarnings();
  }
}

/**
 * Runs a command that needs no store (`ckpt cache`): the config file is still read, for its
 * settings; prints the outcome or the error and sets `ctx.exitCode`.
 */
export async function runLocalCommand(
  ctx: CliContext,
  cmd: Command,
  fn: (
    globals: GlobalOptions,
    config: Pick<ResolvedStoreConfig, 'config' | 'configFile'>,
  ) => Promise<Outcome>,
): Promise<void> {
  const globals = cmd.optsWithGlobals<GlobalOptions>();
  const reporter = reporterFor(globals);
  try {
    const configFile = await findConfigFile(globals.config, ctx.cwd, ctx.env);
    const file = { configFile, config: configFile ? await loadConfigFile(configFile) : undefined };
    const outcome = await fn(globals, file);
    reporter.result(outcome.human, outcome.json);
    ctx.exitCode = outcome.exitCode ?? ExitCode.Ok;
  } catch (err) {
    reporter.error(err);
    ctx.exitCode = exitCodeFor(err);
  }
}

/** The model a command works on: its `--model` option or its `<model>` argument. */
function modelOf(cmd: Command): string | undefined {
  const option = cmd.opts<{ model?: string }>().model;
  const index = cmd.registeredArguments.findIndex((argument) => argument.name() === 'model');
  const argument = index < 0 ? undefined : cmd.processedArgs[index];
  return option ?? (typeof argument === 'string' ? argument : undefined);
}

async function closeQuietly(reporter: Reporter, ...closables: ({ close?(): Promise<void> } | undefined)[]) {
  for (const closable of closables) {
    try {
      await closable?.close?.();
    } catch (err) {
      if (reporter.mode.debug) reporter.info(`close: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
