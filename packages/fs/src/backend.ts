import type { BackendDefinition } from '@ckpt/core';
import { type FsConfig, fsConfigFromUrl, fsConfigPaths, fsConfigSchema } from './config.js';
import { FsBackend } from './fs-store.js';

/**
 * The `fs` backend for `openStore` and `ckpt.config.json`: `{ "type": "fs", "root": "/var/lib/ckpt" }`,
 * a `file:` URL or a local path.
 */
export const backend: BackendDefinition<FsConfig> = {
  type: 'fs',
  schema: fsConfigSchema,
  schemes: ['file'],
  fromUrl: fsConfigFromUrl,
  resolvePaths: fsConfigPaths,
  open: (config) => new FsBackend({ root: config.root }),
};
