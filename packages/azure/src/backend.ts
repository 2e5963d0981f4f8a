import type { BackendDefinition } from '@ckpt/core';
import { requestTimeoutMs } from '@ckpt/core/backend';
import { AzureBackend } from './azure-store.js';
import { type AzureConfig, azureConfigFromUrl, azureConfigSchema } from './config.js';

/**
 * The `azure` backend for `openStore`: its config schema and `az://container/prefix?…` URL parser,
 * opening an {@link AzureBackend}. Credentials come from the config or the environment, never
 * from a URL.
 *
 * @example
 * ```ts
 * await openStore('az://ckpt/prod?account=acme');
 * ```
 */
export const backend: BackendDefinition<AzureConfig> = {
  type: 'azure',
  schema: azureConfigSchema,
  schemes: ['az'],
  fromUrl: azureConfigFromUrl,
  open: ({ type: _type, timeout, ...options }, openOptions) => {
    const timeoutMs = requestTimeoutMs({ timeout }, openOptions);
    return new AzureBackend({ ...options, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  },
};
