import { StoreError } from '@ckpt/core';
import { redact } from '@ckpt/core/backend';
import { CommanderError } from 'commander';
import { ExitCode, exitCodeFor } from '../exit-codes.js';
import { escapeTerminal } from './escape.js';
import { jsonLine } from './json.js';
import { type ProgressHandler, progressHandler } from './progress.js';

/** How much `ckpt` says, from the global options. */
export interface OutputMode {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  debug: boolean;
  /** Bars even when stderr is not a terminal. */
  progress?: boolean;
  /** Without bars, a progress line this often (ms; 0: never). Default 30 s. */
  progressIntervalMs?: number;
}

/** The operations of a store request (`StoreOp`), as a failed one names them. */
const STORE_OPERATIONS = new Set(['put', 'get', 'head', 'list', 'delete', 'deleteMany']);

/**
 * Everything `ckpt` prints goes through here. stdout holds results only: a human summary, or with
 * `--json` exactly one JSON object (also for failures). Logs, progress and errors go to stderr.
 * Every printed string passes through core's `redact`, and every human line through
 * `escapeTerminal`: names, labels, paths and messages come from the store or the command line.
 */
export class Reporter {
  private resultWritten = false;

  constructor(
    readonly mode: OutputMode,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {}

  /** A `ckpt: …` line on stderr with `--verbose` (or `--debug`). */
  info(message: string): void {
    if ((this.mode.verbose || this.mode.debug) && !this.mode.quiet) this.line(message);
  }

  /** A `ckpt: …` line on stderr unless `--quiet`. */
  notice(message: string): void {
    if (!this.mode.quiet) this.line(message);
  }

  /** The command's result: `human` lines (one line each) on stdout, or `json` as the one JSON object. */
  result(human: string | string[], json: object): void {
    if (this.resultWritten) throw new Error('a command reported two results');
    this.resultWritten = true;
    if (this.mode.json) this.stdout.write(redact(jsonLine(json)));
    else if (!this.mode.quiet) {
      const lines = typeof human === 'string' ? [human] : human;
      if (lines.length > 0) this.stdout.write(redact(`${lines.map(escapeTerminal).join('\n')}\n`));
    }
  }

  /** The one stderr line of a command that ran but did not succeed (a verify that found problems). */
  failure(message: string): void {
    this.line(message);
  }

  /**
   * A failure: one `ckpt: <message>` line on stderr (a stack with `--debug`); an error object with
   * `--json`. A "not found" names `store` when given (a missing checkpoint and a wrong store must
   * be told apart), and so does a store request that failed on a transient error (which store did
   * not answer); a local one (a full disk) does not.
   */
  error(err: unknown, store?: string): void {
    const unavailable = StoreError.is(err, 'Unavailable') && STORE_OPERATIONS.has(err.operation ?? '');
    const namesStore = store !== undefined && (exitCodeFor(err) === ExitCode.NotFound || unavailable);
    const message = oneLine(describeError(err) + (namesStore ? ` (store ${store})` : ''));
    this.stderr.write(`ckpt: ${message}\n`);
    if (this.mode.debug && err instanceof Error && err.stack)
      this.stderr.write(`${redact(fullStack(err).split('\n').map(escapeTerminal).join('\n'))}\n`);
    if (this.mode.json && !this.resultWritten) {
      this.resultWritten = true;
      const code = StoreError.is(err) ? err.code : err instanceof CommanderError ? 'Usage' : 'Internal';
      this.stdout.write(redact(jsonLine({ error: { code, message, exitCode: exitCodeFor(err) } })));
    }
  }

  /**
   * A progress handler for the engine's `onProgress`: bars on a terminal (or with `--progress`),
   * else a line every `progressIntervalMs`, and phase lines with `--verbose`.
   */
  progress(): ProgressHandler {
    const tty = (Boolean(this.stderr.isTTY) || Boolean(this.mode.progress)) && !this.mode.quiet;
    const interval = this.mode.progressIntervalMs;
    return progressHandler({
      tty,
      stream: this.stderr,
      log: (m) => this.info(m),
      report: (m) => this.notice(m),
      intervalMs: interval === 0 ? undefined : interval,
      lines: interval !== 0,
    });
  }

  private line(message: string): void {
    this.stderr.write(`ckpt: ${oneLine(message)}\n`);
  }
}

function describeError(err: unknown): string {
  if (err instanceof CommanderError) return err.message.replace(/^error:\s*/, '');
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}

function oneLine(text: string): string {
  return escapeTerminal(redact(text.trim().replace(/\s*\n\s*/g, '; ')));
}

function fullStack(err: Error): string {
  let text = err.stack ?? String(err);
  let cause = err.cause;
  while (cause instanceof Error) {
    text += `\ncaused by: ${cause.stack ?? cause.message}`;
    cause = cause.cause;
  }
  return text;
}
