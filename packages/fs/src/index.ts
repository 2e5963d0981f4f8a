export { backend } from './backend.js';
export { FsStore, type FsStoreOptions } from './fs-store.js';
export { fsRawReader } from './raw-reader.js';
