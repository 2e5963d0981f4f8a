import {
  httpUrl,
  integer,
  keyPrefix,
  queryFields,
  secret,
  text,
  timeout,
  urlHost,
  urlPrefix,
} from '@ckpt/core/backend';
import { z } from 'zod';

const MiB = 1024 ** 2;

/**
 * Azure Blob Storage (or Azurite). Credentials are tried in order: a connection string (this
 * config's, else `AZURE_STORAGE_CONNECTION_STRING`), the account key `AZURE_STORAGE_KEY`, a SAS
 * token (this config's, else `AZURE_STORAGE_SAS_TOKEN`), else `DefaultAzureCredential`. Never
 * from a URL.
 *
 * @example `{ "type": "azure", "container": "ckpt", "prefix": "prod", "account": "acme" }` — URL:
 * `az://ckpt/prod?account=acme&endpoint=http://127.0.0.1:10000/devstoreaccount1`.
 */
export const azureConfigSchema = z.strictObject({
  type: z.literal('azure'),
  container: z
    .string({ error: 'expected a container name (3-63 lower-case letters, digits and single hyphens)' })
    .regex(/^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/, {
      error: 'expected a container name (3-63 lower-case letters, digits and single hyphens)',
    })
    .meta({ description: 'Container name. It must exist.' }),
  prefix: keyPrefix().optional().meta({ description: 'Key prefix every blob is stored under.' }),
  account: text()
    .optional()
    .meta({ description: 'Storage account name; the endpoint is https://<account>.blob.core.windows.net.' }),
  endpoint: httpUrl()
    .optional()
    .meta({ description: 'Blob endpoint, e.g. Azurite\'s "http://127.0.0.1:10000/devstoreaccount1".' }),
  blockSize: integer(MiB, 4000 * MiB, 'expected an integer from 1048576 (1 MiB) to 4194304000 (4000 MiB)')
    .optional()
    .meta({ description: 'Block size in bytes of large uploads.' }),
  singleUploadThreshold: integer(0, 5000 * MiB)
    .optional()
    .meta({
      description:
        'Bodies up to this many bytes go in one Put Blob; larger ones as staged blocks. Default 16 MiB.',
    }),
  concurrency: integer(1, 1024).optional().meta({ description: 'Blocks staged in parallel by one put.' }),
  timeout: timeout(),
  connectionString: secret(text(), 'Connection string; else AZURE_STORAGE_CONNECTION_STRING.').optional(),
  sasToken: secret(text(), 'SAS token; else AZURE_STORAGE_SAS_TOKEN.').optional(),
});

/** A validated Azure store config. */
export type AzureConfig = z.infer<typeof azureConfigSchema>;

/** `az://container/prefix?account=…&endpoint=…&blockSize=…&singleUploadThreshold=…&concurrency=…&timeout=60s` */
export function azureConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, {
    account: 'string',
    endpoint: 'string',
    blockSize: 'integer',
    singleUploadThreshold: 'integer',
    concurrency: 'integer',
    timeout: 'string',
  });
  const prefix = urlPrefix(url);
  return {
    type: 'azure',
    container: urlHost(url, 'container'),
    ...(prefix === undefined ? {} : { prefix }),
    ...query,
  };
}
