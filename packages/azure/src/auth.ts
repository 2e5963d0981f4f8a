import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import {
  AnonymousCredential,
  ContainerClient,
  type StoragePipelineOptions,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { StoreError } from '@ckpt/core';
import type { AzureConnectionOptions } from './options.js';

/** How a store authenticates, in the order they are tried. */
export type AuthMode = 'connection string' | 'account key' | 'SAS token' | 'DefaultAzureCredential';

/** The variable that selects each mode (DefaultAzureCredential reads several of its own). */
export const AUTH_VARIABLES: Record<AuthMode, string> = {
  'connection string': 'AZURE_STORAGE_CONNECTION_STRING',
  'account key': 'AZURE_STORAGE_KEY',
  'SAS token': 'AZURE_STORAGE_SAS_TOKEN',
  DefaultAzureCredential: 'AZURE_CLIENT_ID, AZURE_TENANT_ID, AZURE_CLIENT_SECRET, az login, managed identity',
};

/** The credential a store will use; `secret` is never printed. */
export type Auth =
  | { mode: 'connection string'; secret: string }
  | { mode: 'account key'; secret: string }
  | { mode: 'SAS token'; secret: string }
  | { mode: 'DefaultAzureCredential' };

/**
 * Picks the credential: a connection string (the config's, else `AZURE_STORAGE_CONNECTION_STRING`),
 * else the account key `AZURE_STORAGE_KEY`, else a SAS token (the config's, else
 * `AZURE_STORAGE_SAS_TOKEN`), else `DefaultAzureCredential`. Empty values count as unset.
 */
export function resolveAuth(
  options: Pick<AzureConnectionOptions, 'connectionString' | 'sasToken'>,
  env: Record<string, string | undefined>,
): Auth {
  const given = (value: string | undefined) => (value === undefined || value === '' ? undefined : value);
  const connection = given(options.connectionString) ?? given(env.AZURE_STORAGE_CONNECTION_STRING);
  if (connection) return { mode: 'connection string', secret: connection };
  const key = given(env.AZURE_STORAGE_KEY);
  if (key) return { mode: 'account key', secret: key };
  const sas = given(options.sasToken) ?? given(env.AZURE_STORAGE_SAS_TOKEN);
  if (sas) return { mode: 'SAS token', secret: sas.replace(/^\?/, '') };
  return { mode: 'DefaultAzureCredential' };
}

/**
 * A `TokenCredential` that imports `@azure/identity` and builds its `DefaultAzureCredential` on
 * the first token asked for: opening a store with another credential never loads it.
 */
export function lazyDefaultCredential(
  load: () => Promise<TokenCredential> = loadDefaultCredential,
): TokenCredential & { loaded(): boolean } {
  let credential: Promise<TokenCredential> | undefined;
  return {
    loaded: () => credential !== undefined,
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null> {
      credential ??= load();
      return (await credential).getToken(scopes, options);
    },
  };
}

/** Imports `@azure/identity` and builds its `DefaultAzureCredential` (no request is made until a token is asked for). */
export async function loadDefaultCredential(): Promise<TokenCredential> {
  const { DefaultAzureCredential } = await import('@azure/identity');
  return new DefaultAzureCredential();
}

/** The account's blob endpoint: the given one, else Azure's public one for `account`. */
export function blobEndpoint(options: Pick<AzureConnectionOptions, 'endpoint' | 'account'>): string {
  if (options.endpoint) return options.endpoint.replace(/\/+$/, '');
  if (!options.account) {
    throw new StoreError('InvalidArgument', 'give the storage account (account) or an endpoint', {
      operation: 'AzureStore options',
    });
  }
  return `https://${options.account}.blob.core.windows.net`;
}

/** The container client for `auth`, on `pipeline` (one attempt, the store's timeout). */
export function containerClient(
  options: AzureConnectionOptions,
  auth: Auth,
  pipeline: StoragePipelineOptions,
): ContainerClient {
  const { container } = options;
  switch (auth.mode) {
    case 'connection string':
      // the connection string names the endpoint and the credential (key or SAS)
      return new ContainerClient(auth.secret, container, pipeline);
    case 'account key': {
      const account = options.account ?? accountOf(options.endpoint);
      if (!account) {
        throw new StoreError(
          'InvalidArgument',
          'AZURE_STORAGE_KEY needs the storage account: give account (or ?account= in the URL)',
          { operation: 'AzureStore options' },
        );
      }
      const credential = new StorageSharedKeyCredential(account, auth.secret);
      return new ContainerClient(containerUrl(options, container), credential, pipeline);
    }
    case 'SAS token':
      return new ContainerClient(
        `${containerUrl(options, container)}?${auth.secret}`,
        new AnonymousCredential(),
        pipeline,
      );
    default:
      return new ContainerClient(containerUrl(options, container), lazyDefaultCredential(), pipeline);
  }
}

function containerUrl(options: AzureConnectionOptions, container: string): string {
  return `${blobEndpoint(options)}/${encodeURIComponent(container)}`;
}

/** The account of a public endpoint (`https://acct.blob.core.windows.net`) or an emulator's path (`/devstoreaccount1`). */
function accountOf(endpoint: string | undefined): string | undefined {
  if (!endpoint) return undefined;
  const url = new URL(endpoint);
  const host = /^([a-z0-9]+)\.blob\./.exec(url.hostname);
  return host?.[1] ?? (url.pathname.split('/').find((part) => part !== '') || undefined);
}
