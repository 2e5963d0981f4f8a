import { access } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import type { CkptConfig } from './ckpt-config.js';
import { CONFIG_FILE_NAME, importConfigModules, loadConfigFile } from './load-config.js';
import { validateStoreConfig } from './open-store.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry } from './registry.js';
import type { AnyStoreConfig } from './schemas.js';
import { parseStoreUrl } from './url.js';
import { withOrigin } from './with-origin.js';

/** The store when nothing names one: a folder in the working directory. */
const DEFAULT_STORE = './.ckpt-store';

/** Where the store config came from: `--store`, `CKPT_STORE`, a config file, or the default. */
export type StoreSource = 'flag' | 'env' | 'config' | 'default';

/** Inputs of {@link resolveStoreConfig}. */
export interface ResolveStoreConfigOptions {
  /** An explicit store URL (the CLI's `--store`). Wins over everything else. */
  url?: string;
  /** Environment to read `CKPT_STORE`, `XDG_CONFIG_HOME` and `HOME` from. Default `process.env`. */
  env?: Record<string, string | undefined>;
  /**
   * An explicit config file (must exist). Default: `ckpt.config.json` in `cwd` when present, else
   * the user's `$XDG_CONFIG_HOME/ckpt/config.json` (`~/.config/ckpt/config.json`) when present.
   */
  configPath?: string;
  /** Working directory. Default `process.cwd()`. */
  cwd?: string;
  /** Where backends are looked up and registered. Default: the process-wide registry. */
  registry?: BackendRegistry;
}

/** The outcome of {@link resolveStoreConfig}. */
export interface ResolvedStoreConfig {
  /** The validated store config, its paths absolute (an fs `root`). Pass it to `openStore`. */
  store: AnyStoreConfig;
  /** Which input it came from. */
  source: StoreSource;
  /** The config file that was read (absolute), if any — also when the store came from elsewhere. */
  configFile?: string;
  /** That file's content (`sync` settings, `modules`). */
  config?: CkptConfig;
}

/**
 * Decides which store to use. The first of these wins: `url` (`--store`), the `CKPT_STORE`
 * environment variable, the config file's `store`, and finally the local path `./.ckpt-store`
 * (`{type: 'fs', root: '<cwd>/.ckpt-store'}`).
 *
 * The config file (explicit `configPath`, else `ckpt.config.json` in `cwd`, else the user's
 * `$XDG_CONFIG_HOME/ckpt/config.json`) is read whatever wins,
 * and its `modules` are imported first, so a URL may use a scheme a custom backend registers. The
 * store that wins is validated by its backend (a built-in backend's package is imported for it).
 * Paths in the config file resolve against its folder; paths in `url` and `CKPT_STORE` against `cwd`.
 */
export async function resolveStoreConfig(
  options: ResolveStoreConfigOptions = {},
): Promise<ResolvedStoreConfig> {
  const cwd = path.resolve(options.cwd ?? process.cwd());
  const registry = options.registry ?? defaultRegistry;
  const env = options.env ?? process.env;
  const configFile = await findConfigFile(options.configPath, cwd, env);
  const config = configFile ? await loadConfigFile(configFile) : undefined;
  const file = configFile ? { configFile, config } : {};

  if (configFile && config?.modules) {
    await importConfigModules(config.modules, path.dirname(configFile), registry).catch((err) => {
      throw withOrigin(err, `in ${configFile}`);
    });
  }
  if (options.url !== undefined) {
    return { store: await fromUrl(options.url, cwd, registry, 'from --store'), source: 'flag', ...file };
  }
  const fromEnv = env.CKPT_STORE;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    return { store: await fromUrl(fromEnv, cwd, registry, 'from CKPT_STORE'), source: 'env', ...file };
  }
  if (configFile && config) {
    const base = path.dirname(configFile);
    const store =
      typeof config.store === 'string'
        ? await fromUrl(config.store, base, registry, `in ${configFile}`)
        : await fromObject(config.store, base, registry, `in ${configFile}`);
    return { store, source: 'config', ...file };
  }
  return {
    store: await fromUrl(DEFAULT_STORE, cwd, registry, 'the default store, ./.ckpt-store'),
    source: 'default',
  };
}

/**
 * The config file ckpt reads: `explicit` (must exist when read), else `ckpt.config.json` in `cwd`
 * when present, else the user's `$XDG_CONFIG_HOME/ckpt/config.json` when present.
 */
export async function findConfigFile(
  explicit: string | undefined,
  cwd: string,
  env: Record<string, string | undefined>,
): Promise<string | undefined> {
  if (explicit !== undefined) return path.resolve(cwd, explicit);
  const configHome = env.XDG_CONFIG_HOME || path.join(env.HOME || homedir(), '.config');
  for (const candidate of [path.join(cwd, CONFIG_FILE_NAME), path.join(configHome, 'ckpt', 'config.json')]) {
    if (
      await access(candidate).then(
        () => true,
        () => false,
      )
    )
      return candidate;
  }
  return undefined;
}

async function fromUrl(
  url: string,
  cwd: string,
  registry: BackendRegistry,
  origin: string,
): Promise<AnyStoreConfig> {
  try {
    return await parseStoreUrl(url, { cwd, registry });
  } catch (err) {
    throw withOrigin(err, origin);
  }
}

async function fromObject(
  config: unknown,
  cwd: string,
  registry: BackendRegistry,
  origin: string,
): Promise<AnyStoreConfig> {
  try {
    return await validateStoreConfig(config, { cwd, registry });
  } catch (err) {
    throw withOrigin(err, origin);
  }
}
