export { backend } from './backend.js';
export { type GcsConfig, gcsConfigFromUrl, gcsConfigSchema } from './config.js';
export { GcsBackend, GcsStore, type GcsStoreOptions } from './gcs-store.js';
export type {
  GcsBackendOptions,
  GcsBucketOptions,
  GcsCommonOptions,
  GcsConnectionOptions,
  GcsCredentials,
  GcsStorageOptions,
} from './options.js';
