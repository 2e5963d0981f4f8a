export type { AuthMode } from './auth.js';
export { AzureBackend, AzureStore, type AzureStoreOptions } from './azure-store.js';
export { backend } from './backend.js';
export { type AzureConfig, azureConfigFromUrl, azureConfigSchema } from './config.js';
export type {
  AzureBackendOptions,
  AzureClientOptions,
  AzureCommonOptions,
  AzureConnectionOptions,
} from './options.js';
