import { StoreError } from '../errors.js';
import type { AnyDefinition } from './backend-definition.js';
import { checkDefinition, registrationError } from './backend-definition.js';
import type { BuiltinBackend } from './builtins.js';
import { BUILTIN_BACKENDS } from './builtins.js';
import { errorText } from './error-text.js';
import { importPackage } from './import-package.js';

/** A row of {@link BackendRegistry.list}. */
export interface BackendSummary {
  type: string;
  schemes: string[];
  /** The package that provides it, for built-in backends. */
  package?: string;
  /** False for a built-in backend whose package has not been imported yet. */
  registered: boolean;
}

/** Options of a {@link BackendRegistry}. */
export interface BackendRegistryOptions {
  /**
   * The backends imported from their package the first time their type or one of their schemes is
   * used, by type. Default: {@link BUILTIN_BACKENDS}.
   */
  builtins?: Readonly<Record<string, BuiltinBackend>>;
}

/**
 * The set of known backends: the registered ones, and the built-in ones whose package is imported
 * on first use. Most code uses the process-wide {@link defaultRegistry} through
 * {@link registerBackend} and `openStore`; a separate instance isolates tests.
 */
export class BackendRegistry {
  private readonly registered = new Map<string, AnyDefinition>();
  private readonly loading = new Map<string, Promise<AnyDefinition>>();
  private readonly builtins: Readonly<Record<string, BuiltinBackend>>;

  constructor(options: BackendRegistryOptions = {}) {
    this.builtins = options.builtins ?? BUILTIN_BACKENDS;
  }

  /**
   * Adds `def`. Registering the same definition again does nothing; a different definition for a
   * registered type, or a scheme owned by another type, is an error unless `replace` is true.
   */
  register(def: AnyDefinition, options: { replace?: boolean } = {}): void {
    checkDefinition(def);
    const current = this.registered.get(def.type);
    if (current === def) return;
    if (current && !options.replace) {
      const detail =
        'a different backend is already registered under this type; pass {replace: true} to replace it';
      throw registrationError(def.type, detail);
    }
    for (const scheme of def.schemes ?? []) {
      const owner = this.typeOfScheme(scheme);
      if (owner !== undefined && owner !== def.type && !options.replace) {
        throw registrationError(def.type, `the URL scheme "${scheme}:" belongs to the ${owner} backend`);
      }
    }
    this.registered.set(def.type, def);
  }

  /** The registered definition of `type` (built-ins appear once their package is imported). */
  get(type: string): AnyDefinition | undefined {
    return this.registered.get(type);
  }

  /** The registered definitions, sorted by type (built-ins once their package is imported). */
  definitions(): AnyDefinition[] {
    return [...this.registered.values()].sort((a, b) => (a.type < b.type ? -1 : 1));
  }

  /** Registered backends and the built-in ones not imported yet, sorted by type. */
  list(): BackendSummary[] {
    const types = new Set([...Object.keys(this.builtins), ...this.registered.keys()]);
    return [...types].sort().map((type) => {
      const def = this.registered.get(type);
      const pkg = this.builtin(type)?.package;
      const schemes = def?.schemes ?? this.builtin(type)?.schemes ?? [];
      return { type, schemes: [...schemes], ...(pkg ? { package: pkg } : {}), registered: def !== undefined };
    });
  }

  /** Every URL scheme known, sorted. */
  schemes(): string[] {
    return this.list()
      .flatMap((b) => b.schemes)
      .sort();
  }

  /** The type of the backend that parses URLs of `scheme` (lower case): a registered one, else a built-in one. */
  typeOfScheme(scheme: string): string | undefined {
    for (const def of this.registered.values()) if (def.schemes?.includes(scheme)) return def.type;
    for (const [type, builtin] of Object.entries(this.builtins))
      if (builtin.schemes.includes(scheme)) return type;
    return undefined;
  }

  /**
   * The definition of `type`, importing its package on first use (from core's location, else the
   * main script's, else `cwd`: see `importPackage`). Throws `InvalidArgument` for an unknown type and
   * `Unsupported` when the package is missing.
   */
  async load(type: string, options: { cwd?: string } = {}): Promise<AnyDefinition> {
    const registered = this.registered.get(type);
    if (registered) return registered;
    const pkg = this.builtin(type)?.package;
    if (!pkg) throw unknownBackendError(type, this);
    let pending = this.loading.get(type);
    if (!pending) {
      pending = this.importDefinition(type, pkg, options.cwd ?? process.cwd());
      this.loading.set(type, pending);
      pending.catch(() => this.loading.delete(type));
    }
    return pending;
  }

  private builtin(type: string): BuiltinBackend | undefined {
    return Object.hasOwn(this.builtins, type) ? this.builtins[type] : undefined;
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
    if (!mod)
      throw new StoreError('Unsupported', `the ${type} backend needs the package ${pkg}: npm i ${pkg}`);
    const def = mod.backend as AnyDefinition | undefined;
    if (def?.type !== type) {
      throw new StoreError('Internal', `the package ${pkg} does not export the ${type} backend as "backend"`);
    }
    this.register(def);
    return def;
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

/**
 * The process-wide registry behind {@link registerBackend} and the defaults of `openStore`,
 * `resolveStoreConfig` and `ckptConfigJsonSchema`. `defaultRegistry.list()` names every backend
 * known; `defaultRegistry.get(type)` finds a registered one.
 */
export const defaultRegistry = new BackendRegistry();

/** Registers a backend in the process-wide registry (see {@link BackendRegistry.register}). */
export function registerBackend(def: AnyDefinition, options?: { replace?: boolean }): void {
  defaultRegistry.register(def, options);
}
