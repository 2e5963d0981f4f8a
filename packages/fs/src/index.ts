export { backend } from './backend.js';
export { type FsConfig, fsConfigFromUrl, fsConfigSchema } from './config.js';
export { FsBackend, type FsBackendOptions, FsStore, type FsStoreOptions } from './fs-store.js';
export { fsRawReader } from './raw-reader.js';
