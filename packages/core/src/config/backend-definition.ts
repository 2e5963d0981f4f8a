import type { z } from 'zod';
import type { Backend } from '../backend.js';
import { parseDuration } from '../duration.js';
import { StoreError } from '../errors.js';
import { BACKEND_TYPE_PATTERN } from './schemas.js';

/**
 * A storage backend: how to validate its config, parse its URLs and open a store. Each backend
 * owns its config: the schema and URL forms live with `open`, in its adapter package.
 *
 * The built-in backends are defined by their adapter packages (`@ckpt/fs`, `@ckpt/s3`,
 * `@ckpt/gcs`, `@ckpt/azure`), each exporting `backend`, which core imports the first time a config
 * or URL of the type is met. A custom backend is registered with `registerBackend`, usually by a
 * module listed under `modules` in `ckpt.config.json`. Build its schema from core's field helpers
 * (`text`, `integer`, `duration`, `secret`, …) and its `fromUrl` from `queryFields`, `urlHost` and
 * `urlPrefix`, and its errors read like the built-in backends'.
 *
 * @example
 * ```ts
 * export const backend: BackendDefinition<{ type: 'memory'; name: string }> = {
 *   type: 'memory',
 *   schema: z.strictObject({ type: z.literal('memory'), name: text() }),
 *   schemes: ['mem'],
 *   fromUrl: (url) => ({ type: 'memory', name: urlHost(url, 'name') }),
 *   open: (config) => new MemoryBackend(`mem://${config.name}`),
 * };
 * registerBackend(backend);
 * await openStore('mem://scratch');
 * ```
 */
export interface BackendDefinition<C extends { type: string } = { type: string }> {
  /** `fs`, `s3`, `gcs`, `azure`, or a custom name: lower-case letters, digits, `-`, `_`. */
  type: string;
  /** Validates the whole config object, `type` included. Use strict objects: a typo is an error. */
  schema: z.ZodType<C>;
  /** URL schemes this backend owns, without `:` (e.g. `['s3']`). Needs {@link fromUrl}. */
  schemes?: string[];
  /**
   * Turns a URL of one of {@link schemes} into a config object (validated by `schema` afterwards).
   * It never reads credentials: URLs carrying them are rejected before it is called.
   */
  fromUrl?(url: URL): unknown;
  /**
   * Makes the relative paths of a validated config absolute against `base`: the folder of the
   * config file it was read from, else the working directory. Without it, a config is used as
   * validated. (A local path given as a store URL arrives as an absolute `file:` URL instead.)
   */
  resolvePaths?(config: C, base: string): C;
  /** Opens the backend of a validated config; `openStore` makes it a store. */
  open(config: C, options?: BackendOpenOptions): Backend | Promise<Backend>;
}

/** What `openStore` hands every backend besides its config. */
export interface BackendOpenOptions {
  /**
   * How long a request may go without an answer, or a body without progress, before it fails with
   * a retryable `Unavailable` (the CLI's `--timeout`). A backend that talks over a network takes
   * it over its config's `timeout` (see {@link requestTimeoutMs}); others ignore it.
   */
  timeoutMs?: number;
}

/** A network backend's timeout in ms: `openStore`'s `timeoutMs`, else its config's `timeout`, else undefined (its default). */
export function requestTimeoutMs(
  config: { timeout?: string | undefined },
  options: BackendOpenOptions = {},
): number | undefined {
  return options.timeoutMs ?? (config.timeout === undefined ? undefined : parseDuration(config.timeout));
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds backends of every config type
export type AnyDefinition = BackendDefinition<any>;

/** The `InvalidArgument` error of a rejected registration. */
export function registrationError(type: unknown, detail: string): StoreError {
  return new StoreError('InvalidArgument', detail, { operation: 'registerBackend', key: String(type) });
}

function fail(type: unknown, detail: string): never {
  throw registrationError(type, detail);
}

/** Throws `InvalidArgument` (operation `registerBackend`) when `def` is not a usable definition. */
export function checkDefinition(def: AnyDefinition): void {
  if (typeof def !== 'object' || def === null) fail('?', 'expected a backend definition object');
  if (typeof def.type !== 'string' || !BACKEND_TYPE_PATTERN.test(def.type)) {
    fail(def.type, 'type must be lower-case letters, digits, "-" or "_", starting with a letter');
  }
  if (typeof def.schema?.safeParse !== 'function') fail(def.type, 'schema must be a zod schema');
  if (typeof def.open !== 'function') fail(def.type, 'open must be a function');
  if (def.resolvePaths !== undefined && typeof def.resolvePaths !== 'function')
    fail(def.type, 'resolvePaths must be a function');
  for (const scheme of def.schemes ?? []) {
    if (!/^[a-z][a-z0-9+.-]*$/.test(scheme))
      fail(def.type, `"${scheme}" is not a URL scheme (lower case, without ":")`);
  }
  if (def.schemes?.length && typeof def.fromUrl !== 'function')
    fail(def.type, 'schemes need a fromUrl function');
}
