export { backend } from './backend.js';
export { type S3Config, s3ConfigFromUrl, s3ConfigSchema } from './config.js';
export type {
  S3BackendOptions,
  S3Credentials,
  S3StoreClientOptions,
  S3StoreCommonOptions,
  S3StoreConnectionOptions,
} from './options.js';
export { S3Backend, S3Store, type S3StoreOptions } from './s3-store.js';
