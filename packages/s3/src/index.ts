export { backend } from './backend.js';
export { type S3Config, s3ConfigFromUrl, s3ConfigSchema } from './config.js';
export type {
  S3Credentials,
  S3StoreClientOptions,
  S3StoreCommonOptions,
  S3StoreConnectionOptions,
  S3StoreOptions,
} from './options.js';
export { S3Store } from './s3-store.js';
