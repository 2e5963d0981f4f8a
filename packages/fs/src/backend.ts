import { type BackendDefinition, type FsConfig, fsConfigFromUrl, fsConfigSchema } from '@ckpt/core';
import { FsBackend } from './fs-store.js';

/**
 * The `fs` backend for `openStore` and `ckpt.config.json`: `{ "type": "fs", "root": "/var/lib/ckpt" }`
 * or a `file:` URL. The schema and URL parser live in `@ckpt/core`; this adds `open`.
 */
export const backend: BackendDefinition<FsConfig> = {
  type: 'fs',
  schema: fsConfigSchema,
  schemes: ['file'],
  fromUrl: fsConfigFromUrl,
  open: (config) => new FsBackend({ root: config.root }),
};
