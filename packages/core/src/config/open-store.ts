import { BackendStore } from '../backend-store.js';
import { MAX_TIMEOUT_MS } from '../duration.js';
import { StoreError } from '../errors.js';
import type { RetryOptions } from '../retry.js';
import type { ObjectStore } from '../store.js';
import type { AnyDefinition } from './backend-definition.js';
import { errorText } from './error-text.js';
import { parseConfig } from './format-issue.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry } from './registry.js';
import type { AnyStoreConfig } from './schemas.js';
import { anyStoreConfigSchema } from './schemas.js';
import { parseStoreUrl } from './url.js';

/** Options of {@link openStore} and {@link validateStoreConfig}. */
export interface OpenStoreOptions {
  /** Base of relative paths (an fs `root`) and the last place to look for adapter packages. Default `process.cwd()`. */
  cwd?: string;
  /** Where backends are looked up. Default: the process-wide registry. */
  registry?: BackendRegistry;
  /** How the store retries failed requests; `false` for never. Default: `RetryOptions`' defaults. */
  retry?: RetryOptions | false;
  /** See `StoreOptions.maxInFlight`. */
  maxInFlight?: number;
  /**
   * How long a request may go without an answer, or a body without progress, before it fails with
   * a retryable `Unavailable` (retried like any such failure). Wins over the config's `timeout`;
   * backends that do not talk over a network ignore it. From 1 ms to a day. Default: the
   * config's `timeout`, else the backend's default (60 s for s3, gcs and azure).
   */
  timeoutMs?: number;
}

/**
 * Checks a store config without opening anything: its `type` must be known (built in, or
 * registered) and its fields must pass that backend's schema, so a built-in type's package is
 * imported first (`Unsupported` when it is not installed). Returns the validated config, its
 * relative paths (an fs `root`) made absolute against `cwd`. Errors are one-line `InvalidArgument`s
 * such as `config store.bucket: expected a non-empty string`.
 */
export async function validateStoreConfig(
  config: unknown,
  options: OpenStoreOptions = {},
): Promise<AnyStoreConfig> {
  const registry = options.registry ?? defaultRegistry;
  const cwd = options.cwd ?? process.cwd();
  const { type } = parseConfig(anyStoreConfigSchema, config, CONTEXT);
  return checkedConfig(await registry.load(type, { cwd }), config, cwd);
}

const CONTEXT = { operation: 'config', base: ['store'] };

/** `config` validated by the schema of `def`, its relative paths resolved against `cwd`. */
function checkedConfig(def: AnyDefinition, config: unknown, cwd: string): AnyStoreConfig {
  const valid = parseConfig(def.schema, config, CONTEXT);
  return def.resolvePaths ? def.resolvePaths(valid, cwd) : valid;
}

/**
 * Opens the store a URL or a config object describes. A built-in backend whose package is not
 * registered yet is imported on first use (`@ckpt/s3` for `s3`, …); a custom backend must be
 * registered first. The config is validated by the backend's schema before `open` is called.
 *
 * @example
 * ```ts
 * const store = await openStore('s3://ckpt/prod?region=eu-west-1');
 * const local = await openStore({ type: 'fs', root: './.ckpt-store' }, { cwd: '/srv/app' });
 * ```
 */
export async function openStore(
  configOrUrl: string | { type: string } | AnyStoreConfig,
  options: OpenStoreOptions = {},
): Promise<ObjectStore> {
  const registry = options.registry ?? defaultRegistry;
  const cwd = options.cwd ?? process.cwd();
  const config =
    typeof configOrUrl === 'string'
      ? await parseStoreUrl(configOrUrl, { cwd, registry })
      : await validateStoreConfig(configOrUrl, { cwd, registry });
  const def = await registry.load(config.type, { cwd });
  const { timeoutMs } = options;
  if (
    timeoutMs !== undefined &&
    !(Number.isSafeInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= MAX_TIMEOUT_MS)
  ) {
    throw new StoreError('InvalidArgument', `timeoutMs must be an integer from 1 to ${MAX_TIMEOUT_MS}`, {
      operation: 'openStore',
    });
  }
  try {
    const { retry, maxInFlight } = options;
    return new BackendStore(await def.open(config, timeoutMs === undefined ? {} : { timeoutMs }), {
      retry,
      ...(maxInFlight === undefined ? {} : { maxInFlight }),
    });
  } catch (err) {
    if (StoreError.is(err)) throw err;
    throw new StoreError('Internal', `the ${def.type} backend failed to open the store: ${errorText(err)}`, {
      operation: 'openStore',
      cause: err,
    });
  }
}
