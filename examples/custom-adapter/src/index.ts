export { backend, type KvConfig, kvConfigSchema } from './backend.js';
export { KvDirBackend } from './kv-dir-backend.js';
