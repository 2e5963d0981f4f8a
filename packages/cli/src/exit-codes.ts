import { StoreError, type StoreErrorCode } from '@ckpt/core';
import { CommanderError } from 'commander';

/** The exit codes of `ckpt`, a contract for scripts. */
export const ExitCode = {
  /** Success (and `exists` found a complete checkpoint). */
  Ok: 0,
  /** Operational failure: I/O, network, permission, an unavailable store, a bug. */
  Failure: 1,
  /**
   * Usage or configuration error: bad arguments, bad URL, bad config field, missing directory, a
   * store that does not exist (a missing filesystem root or bucket).
   */
  Usage: 2,
  /** The checkpoint (model or generation) does not exist in a store that does. */
  NotFound: 3,
  /** Stored or local bytes do not match their size or hash. */
  Integrity: 4,
  /** Another writer changed the checkpoint concurrently. */
  Conflict: 5,
  /**
   * The store was written in a newer format than this ckpt reads: upgrade ckpt. Neither a usage
   * error (the arguments are right) nor damage (the store is fine), and a script's remedy differs.
   */
  StoreFormat: 6,
  /**
   * The encryption key: missing for an encrypted store, wrong, unreadable or too short, or given
   * for a store that is not encrypted. The store is fine and the arguments parse: the remedy is
   * the key.
   */
  EncryptionKey: 7,
  /** Interrupted by Ctrl-C (SIGINT). */
  Interrupted: 130,
} as const;

const BY_CODE: Partial<Record<StoreErrorCode, number>> = {
  InvalidArgument: ExitCode.Usage,
  NotFound: ExitCode.NotFound,
  Integrity: ExitCode.Integrity,
  Conflict: ExitCode.Conflict,
  PreconditionFailed: ExitCode.Conflict,
  AlreadyExists: ExitCode.Conflict,
  Aborted: ExitCode.Interrupted,
};

/**
 * The exit code for a failure: StoreErrors by code (any error reading the config file is a
 * configuration error, a store record of a newer format is 6), commander's usage errors as 2,
 * anything else 1.
 */
export function exitCodeFor(err: unknown): number {
  if (StoreError.is(err)) {
    if (err.operation === 'config') return ExitCode.Usage;
    if (err.operation === 'open store' && err.code === 'Unsupported') return ExitCode.StoreFormat;
    if (err.operation === 'encryption key') return ExitCode.EncryptionKey;
    return BY_CODE[err.code] ?? ExitCode.Failure;
  }
  if (err instanceof CommanderError) return err.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage;
  return ExitCode.Failure;
}
