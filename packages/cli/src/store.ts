import {
  type AnyStoreConfig,
  type CheckpointsOptions,
  type ObjectStore,
  openStore,
  type ResolvedStoreConfig,
  type RetryEvent,
} from '@ckpt/core';
import { parseDuration, redactConfig, resolveStoreConfig } from '@ckpt/core/cli';
import { cacheOptions } from './cache-options.js';
import type { CliContext, GlobalOptions } from './context.js';
import { encryptionKey } from './encryption-key.js';
import type { Reporter } from './output/reporter.js';

/** An open store and the engine settings of the config file. */
export interface OpenedStore {
  store: ObjectStore;
  options: CheckpointsOptions;
}

/**
 * Resolves the store (`--store`, `CKPT_STORE`, the config file, the embedded default), names it
 * and its origin in the first verbose line, and opens it. Core imports the backend's package on
 * first use; the CLI's own `@ckpt/fs`, `@ckpt/s3`, `@ckpt/gcs` and `@ckpt/azure` are found beside its script, so
 * `--help` loads none of them.
 */
export async function openConfiguredStore(
  globals: GlobalOptions,
  ctx: CliContext,
  reporter: Reporter,
  onRetry?: () => void,
): Promise<OpenedStore> {
  const resolved = await resolveStoreConfig({
    url: globals.store,
    env: ctx.env,
    configPath: globals.config,
    cwd: ctx.cwd,
  });
  reporter.info(`store ${describeStore(resolved.store)} (${describeSource(resolved)})`);
  const sync = resolved.config?.sync;
  const retry = {
    attempts: globals.retries === undefined ? sync?.attempts : globals.retries + 1,
    maxElapsedMs: sync?.retryWithin === undefined ? undefined : parseDuration(sync.retryWithin),
    onRetry: (e: RetryEvent) => {
      onRetry?.();
      reporter.info(`retry ${e.attempt} of ${e.op} ${e.key} in ${e.delayMs} ms after: ${e.error.message}`);
    },
  };
  const key = await encryptionKey(globals.encryptionKeyFile, ctx.env, ctx.cwd, resolved);
  const store = await openStore(resolved.store, { cwd: ctx.cwd, retry, timeoutMs: globals.timeout });
  return {
    store,
    options: {
      concurrency: globals.concurrency ?? sync?.concurrency,
      grace: sync?.grace === undefined ? undefined : parseDuration(sync.grace),
      cache: cacheOptions(globals, ctx, resolved),
      ...(key === undefined ? {} : { encryption: { key } }),
    },
  };
}

/** `s3 bucket=ckpt prefix=prod region=eu-west-1`, secrets replaced by `<redacted>`. */
export function describeStore(config: AnyStoreConfig): string {
  const { type, ...fields } = redactConfig(config) as { type: string } & Record<string, unknown>;
  const shown = Object.entries(fields)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
  return [type, ...shown].join(' ');
}

function describeSource(resolved: ResolvedStoreConfig): string {
  switch (resolved.source) {
    case 'flag':
      return 'from --store';
    case 'env':
      return 'from CKPT_STORE';
    case 'config':
      return `from ${resolved.configFile}`;
    case 'default':
      return 'the embedded default';
  }
}
