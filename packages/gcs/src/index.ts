export { backend } from './backend.js';
export { type GcsConfig, gcsConfigFromUrl, gcsConfigSchema } from './config.js';
export { classify, factsOf, NO_CREDENTIALS, toStoreError } from './errors.js';
export { GcsBackend, GcsStore, type GcsStoreOptions } from './gcs-store.js';
export type {
  GcsBackendOptions,
  GcsBucketOptions,
  GcsCommonOptions,
  GcsConnectionOptions,
  GcsCredentials,
  GcsStorageOptions,
} from './options.js';
