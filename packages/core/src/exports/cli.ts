// `@ckpt/core/cli`: what a command-line front end needs besides the main entry: config files,
// which store a command uses and how to show it, durations, the JSON Schema, process memory.
export { BUILTIN_BACKENDS } from '../config/builtins.js';
export {
  cacheSettingsSchema,
  ckptConfigSchema,
  DURATION_PATTERN,
  parseDuration,
  storeFieldSchema,
  syncSettingsSchema,
} from '../config/ckpt-config.js';
export { ckptConfigJsonSchema } from '../config/json-schema.js';
export { CONFIG_FILE_NAME, importConfigModules, loadConfigFile } from '../config/load-config.js';
export { redactConfig } from '../config/redact-config.js';
export { defaultRegistry } from '../config/registry.js';
export { findConfigFile, resolveStoreConfig } from '../config/resolve-store-config.js';
export { anyStoreConfigSchema, BACKEND_TYPE_PATTERN } from '../config/schemas.js';
export { parseSize } from '../config/sizes.js';
export { parseStoreUrl } from '../config/url.js';
export { MAX_TIMEOUT_MS } from '../duration.js';
export { keepYoungGenerationSmall, workerThreadStarted } from '../process-memory.js';
