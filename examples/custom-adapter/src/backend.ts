import { mkdir } from 'node:fs/promises';
import { type BackendDefinition, StoreError } from '@ckpt/core';
import { z } from 'zod';
import { KvDirBackend } from './kv-dir-backend.js';

/** `{ "type": "kv", "dir": "/var/lib/ckpt" }`: the config a `ckpt.config.json` or `openStore` takes. */
export const kvConfigSchema = z.strictObject({
  type: z.literal('kv'),
  dir: z.string().startsWith('/', 'must be an absolute path'),
});

export type KvConfig = z.infer<typeof kvConfigSchema>;

/**
 * The `kv` backend: register it (`registerBackend(backend)`, or list this package under `modules`
 * in `ckpt.config.json`) and `openStore('kv:///var/lib/ckpt')` opens a {@link KvDirBackend} (creating `dir` when missing).
 */
export const backend: BackendDefinition<KvConfig> = {
  type: 'kv',
  schema: kvConfigSchema,
  schemes: ['kv'],
  fromUrl(url) {
    if (url.host !== '') {
      throw new StoreError('InvalidArgument', 'a kv URL has no host: kv:///absolute/dir', {
        operation: 'config',
        key: url.href,
      });
    }
    return { type: 'kv', dir: decodeURIComponent(url.pathname) };
  },
  async open(config) {
    await mkdir(config.dir, { recursive: true });
    return new KvDirBackend(config.dir);
  },
};
