import type { z } from 'zod';
import { StoreError } from '../errors.js';
import type { AnyDefinition } from './backend-definition.js';
import { checkDefinition, registrationError } from './backend-definition.js';
import { BUILTIN_BACKENDS, isBuiltinType } from './builtins.js';
import { errorText } from './error-text.js';
import { importPackage } from './import-package.js';

/** A row of {@link listBackends}. */
export interface BackendSummary {
  type: string;
  schemes: string[];
  /** The package that provides it, for built-in backends. */
  package?: string;
  /** False for a built-in backend whose package has not been imported yet. */
  registered: boolean;
}

/** How a URL scheme becomes a config: the owning backend's parser and schema. */
export interface UrlParser {
  type: string;
  schema: z.ZodType<{ type: string }>;
  fromUrl(url: URL): unknown;
}

/** Options of a {@link BackendRegistry}. */
export interface BackendRegistryOptions {
  /** Package to import for a type that is used before it is registered. Default: the built-ins. */
  packages?: Record<string, string>;
}

/**
 * The set of known backends. Most code uses the process-wide one through {@link registerBackend},
 * {@link getBackend}, {@link listBackends} and `openStore`; a separate instance isolates tests.
 */
export class BackendRegistry {
  private readonly definitions = new Map<string, AnyDefinition>();
  private readonly loading = new Map<string, Promise<AnyDefinition>>();
  private readonly packages: Record<string, string>;

  constructor(options: BackendRegistryOptions = {}) {
    this.packages =
      options.packages ??
      Object.fromEntries(Object.entries(BUILTIN_BACKENDS).map(([type, b]) => [type, b.package]));
  }

  /**
   * Adds `def`. Registering the same definition again does nothing; a different definition for a
   * registered type, or a scheme owned by another type, is an error unless `replace` is true.
   */
  register(def: AnyDefinition, options: { replace?: boolean } = {}): void {
    checkDefinition(def);
    const current = this.definitions.get(def.type);
    if (current === def) return;
    if (current && !options.replace) {
      const detail =
        'a different backend is already registered under this type; pass {replace: true} to replace it';
      throw registrationError(def.type, detail);
    }
    for (const scheme of def.schemes ?? []) {
      const owner = this.schemeOwner(scheme);
      if (owner !== undefined && owner !== def.type && !options.replace) {
        throw registrationError(def.type, `the URL scheme "${scheme}:" belongs to the ${owner} backend`);
      }
    }
    this.definitions.set(def.type, def);
  }

  /** The registered definition of `type` (built-ins appear once their package is imported). */
  get(type: string): AnyDefinition | undefined {
    return this.definitions.get(type);
  }

  /** Registered backends and the built-in ones not imported yet, sorted by type. */
  list(): BackendSummary[] {
    const types = new Set([...Object.keys(this.packages), ...this.definitions.keys()]);
    return [...types].sort().map((type) => {
      const def = this.definitions.get(type);
      const schemes = def?.schemes ?? (isBuiltinType(type) ? BUILTIN_BACKENDS[type].schemes : []);
      const pkg = this.packages[type];
      return { type, schemes: [...schemes], ...(pkg ? { package: pkg } : {}), registered: def !== undefined };
    });
  }

  /** The parser for URLs of `scheme` (lower case): a registered backend's, else a built-in one's. */
  urlParser(scheme: string): UrlParser | undefined {
    for (const def of this.definitions.values()) {
      if (def.fromUrl && def.schemes?.includes(scheme))
        return { type: def.type, schema: def.schema, fromUrl: def.fromUrl };
    }
    for (const [type, builtin] of Object.entries(BUILTIN_BACKENDS)) {
      if (builtin.schemes.includes(scheme)) return { type, schema: builtin.schema, fromUrl: builtin.fromUrl };
    }
    return undefined;
  }

  /** Every URL scheme known, sorted. */
  schemes(): string[] {
    return this.list()
      .flatMap((b) => b.schemes)
      .sort();
  }

  /** The schema for configs of `type` (without importing anything), or undefined when unknown. */
  schemaFor(type: string): z.ZodType<{ type: string }> | undefined {
    return (
      this.definitions.get(type)?.schema ?? (isBuiltinType(type) ? BUILTIN_BACKENDS[type].schema : undefined)
    );
  }

  /**
   * The definition of `type`, importing its package on first use (from core's location, else the
   * main script's, else `cwd`: see `importPackage`). Throws `InvalidArgument` for an unknown type and
   * `Unsupported` when the package is missing.
   */
  async load(type: string, options: { cwd?: string } = {}): Promise<AnyDefinition> {
    const registered = this.definitions.get(type);
    if (registered) return registered;
    const pkg = this.packages[type];
    if (!pkg) throw unknownBackendError(type, this);
    let pending = this.loading.get(type);
    if (!pending) {
      pending = this.importDefinition(type, pkg, options.cwd ?? process.cwd());
      this.loading.set(type, pending);
      pending.catch(() => this.loading.delete(type));
    }
    return pending;
  }

  private async importDefinition(type: string, pkg: string, cwd: string): Promise<AnyDefinition> {
    let mod: Record<string, unknown> | undefined;
    try {
      mod = await importPackage(pkg, cwd);
    } catch (cause) {
      throw new StoreError(
        'Internal',
        `the ${type} backend's package ${pkg} failed to load: ${errorText(cause)}`,
        {
          cause,
        },
      );
    }
    if (!mod && isBuiltinType(type) && BUILTIN_BACKENDS[type].planned) {
      throw new StoreError(
        'Unsupported',
        `the ${type} backend is not available yet: its adapter ${pkg} is not written (this release has fs and s3)`,
      );
    }
    if (!mod)
      throw new StoreError('Unsupported', `the ${type} backend needs the package ${pkg}: npm i ${pkg}`);
    const def = mod.backend as AnyDefinition | undefined;
    if (def?.type !== type) {
      throw new StoreError('Internal', `the package ${pkg} does not export the ${type} backend as "backend"`);
    }
    this.register(def);
    return def;
  }

  private schemeOwner(scheme: string): string | undefined {
    for (const def of this.definitions.values()) if (def.schemes?.includes(scheme)) return def.type;
    for (const [type, builtin] of Object.entries(BUILTIN_BACKENDS))
      if (builtin.schemes.includes(scheme)) return type;
    return undefined;
  }
}

/** The `InvalidArgument` error for a config whose `type` no backend answers to. */
export function unknownBackendError(type: string, registry: BackendRegistry): StoreError {
  const known = registry.list().map((b) => b.type);
  return new StoreError(
    'InvalidArgument',
    `unknown backend ${JSON.stringify(type)}; known: ${known.join(', ')} (register a custom backend first, e.g. with a module listed under "modules" in ckpt.config.json)`,
    { operation: 'config', key: 'store.type' },
  );
}

/** The process-wide registry behind {@link registerBackend}, {@link getBackend}, {@link listBackends} and `openStore`. */
export const defaultRegistry = new BackendRegistry();

/** Registers a backend in the process-wide registry (see {@link BackendRegistry.register}). */
export function registerBackend(def: AnyDefinition, options?: { replace?: boolean }): void {
  defaultRegistry.register(def, options);
}

/** The registered definition of `type`, or undefined (built-ins appear once their package is imported). */
export function getBackend(type: string): AnyDefinition | undefined {
  return defaultRegistry.get(type);
}

/** Registered backends and the built-in ones not imported yet. */
export function listBackends(): BackendSummary[] {
  return defaultRegistry.list();
}
