// Config parsing, the backend registry and openStore. Each backend's config schema and URL forms
// live in its own package; core has the machinery and the field helpers they are built from.

export type { BackendDefinition, BackendOpenOptions } from './backend-definition.js';
export { requestTimeoutMs } from './backend-definition.js';
export type { BuiltinBackend, BuiltinType } from './builtins.js';
export { BUILTIN_BACKENDS } from './builtins.js';
export type { CacheSettings, CkptConfig, SyncSettings } from './ckpt-config.js';
export {
  ckptConfigSchema,
  DURATION_PATTERN,
  parseDuration,
  storeFieldSchema,
  syncSettingsSchema,
} from './ckpt-config.js';
export { duration, flag, httpUrl, integer, keyPrefix, secret, text, timeout } from './fields.js';
export { ckptConfigJsonSchema } from './json-schema.js';
export { CONFIG_FILE_NAME, importConfigModules, loadConfigFile } from './load-config.js';
export type { OpenStoreOptions } from './open-store.js';
export { openStore, validateStoreConfig } from './open-store.js';
export { redactConfig } from './redact-config.js';
export type { BackendRegistryOptions, BackendSummary } from './registry.js';
export { BackendRegistry, defaultRegistry, registerBackend } from './registry.js';
export type { ResolvedStoreConfig, ResolveStoreConfigOptions, StoreSource } from './resolve-store-config.js';
export { resolveStoreConfig } from './resolve-store-config.js';
export type { AnyStoreConfig } from './schemas.js';
export { anyStoreConfigSchema, BACKEND_TYPE_PATTERN } from './schemas.js';
export type { ParseStoreUrlOptions } from './url.js';
export { parseStoreUrl } from './url.js';
export type { QueryFieldKind } from './url-parts.js';
export { queryFields, rejectUrlCredentials, urlError, urlHost, urlPrefix } from './url-parts.js';
