export { backend, type KvConfig, kvConfigSchema } from './backend.js';
export { KvDirStore } from './kv-dir-store.js';
