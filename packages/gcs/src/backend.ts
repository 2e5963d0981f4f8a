import { resolve } from 'node:path';
import type { BackendDefinition } from '@ckpt/core';
import { requestTimeoutMs } from '@ckpt/core/backend';
import { type GcsConfig, gcsConfigFromUrl, gcsConfigSchema } from './config.js';
import { GcsBackend } from './gcs-store.js';

/**
 * The `gcs` backend for `openStore`: its config schema and `gs://bucket/prefix?…` URL parser,
 * opening a {@link GcsBackend}. Credentials come from the config or Application Default
 * Credentials, never from a URL.
 *
 * @example
 * ```ts
 * await openStore('gs://ckpt/prod?apiEndpoint=http://127.0.0.1:4443');
 * ```
 */
export const backend: BackendDefinition<GcsConfig> = {
  type: 'gcs',
  schema: gcsConfigSchema,
  schemes: ['gs'],
  fromUrl: gcsConfigFromUrl,
  // a key file named in a config file is found beside it
  resolvePaths: (config, base) =>
    config.keyFilename === undefined ? config : { ...config, keyFilename: resolve(base, config.keyFilename) },
  open: ({ type: _type, timeout, credentials, ...options }, openOptions) => {
    const timeoutMs = requestTimeoutMs({ timeout }, openOptions);
    return new GcsBackend({
      ...options,
      ...(credentials === undefined
        ? {}
        : { credentials: credentials as { client_email: string; private_key: string } }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  },
};
