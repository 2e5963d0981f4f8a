import path from 'node:path';
import { BackendStore } from '../backend-store.js';
import { StoreError } from '../errors.js';
import type { RetryOptions } from '../retry.js';
import type { ObjectStore } from '../store.js';
import { errorText } from './error-text.js';
import { parseConfig } from './format-issue.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry, unknownBackendError } from './registry.js';
import type { AnyStoreConfig } from './schemas.js';
import { anyStoreConfigSchema } from './schemas.js';
import { parseStoreUrl } from './url.js';

/** Options of {@link openStore} and {@link validateStoreConfig}. */
export interface OpenStoreOptions {
  /** Base of relative paths (an fs `root`) and second place to look for adapter packages. Default `process.cwd()`. */
  cwd?: string;
  /** Where backends are looked up. Default: the process-wide registry. */
  registry?: BackendRegistry;
  /** How the store retries failed requests; `false` for never. Default: `RetryOptions`' defaults. */
  retry?: RetryOptions | false;
}

/**
 * Checks a store config without opening anything: its `type` must be known (built in, or
 * registered) and its fields must pass that backend's schema. Returns the validated config, with a
 * relative fs `root` made absolute against `cwd`. Errors are one-line `InvalidArgument`s such as
 * `config store.bucket: expected a non-empty string`.
 */
export function validateStoreConfig(config: unknown, options: OpenStoreOptions = {}): AnyStoreConfig {
  const registry = options.registry ?? defaultRegistry;
  const context = { operation: 'config', base: ['store'] };
  const { type } = parseConfig(anyStoreConfigSchema, config, context);
  const schema = registry.schemaFor(type);
  if (!schema) throw unknownBackendError(type, registry);
  return absoluteRoot(parseConfig(schema, config, context), options.cwd ?? process.cwd());
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
      ? parseStoreUrl(configOrUrl, { cwd, registry })
      : validateStoreConfig(configOrUrl, { cwd, registry });
  const def = await registry.load(config.type, { cwd });
  const valid = absoluteRoot(parseConfig(def.schema, config, { operation: 'config', base: ['store'] }), cwd);
  try {
    return new BackendStore(await def.open(valid), { retry: options.retry });
  } catch (err) {
    if (StoreError.is(err)) throw err;
    throw new StoreError('Internal', `the ${def.type} backend failed to open the store: ${errorText(err)}`, {
      operation: 'openStore',
      cause: err,
    });
  }
}

/** An fs config's relative `root` resolved against `cwd`; other configs unchanged. */
function absoluteRoot<C extends { type: string }>(config: C, cwd: string): C {
  if (config.type !== 'fs') return config;
  const root = (config as { root?: unknown }).root;
  return typeof root === 'string' && !path.isAbsolute(root)
    ? { ...config, root: path.resolve(cwd, root) }
    : config;
}
