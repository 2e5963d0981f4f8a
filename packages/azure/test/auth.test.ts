// Each credential mode against Azurite: a connection string, the account key, a SAS token. A
// wrong key is one PermissionDenied line naming the mode; a missing container names the store.
import { randomUUID } from 'node:crypto';
import {
  BlobServiceClient,
  type ContainerClient,
  ContainerSASPermissions,
  generateBlobSASQueryParameters,
  StorageSharedKeyCredential,
} from '@azure/storage-blob';
import { StoreError } from '@ckpt/core';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AzureStore } from '../src/index.js';

let server: Azurite;
let containerName: string;
let raw: ContainerClient;

beforeAll(async () => {
  server = await startAzurite();
  containerName = await server.createContainer();
  raw = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(containerName);
});
afterAll(async () => {
  await server?.stop();
});

/** A put through `store` that the plain SDK reads back, then a get through the store. */
async function roundTrip(store: AzureStore, prefix: string): Promise<void> {
  try {
    await store.put('inventory.img', Buffer.from('inventory'));
    const bytes = await raw.getBlobClient(`${prefix}/inventory.img`).downloadToBuffer();
    expect(bytes.toString()).toBe('inventory');
    const { body } = await store.get('inventory.img');
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('inventory');
  } finally {
    await store.close();
  }
}

function sasToken(): string {
  const credential = new StorageSharedKeyCredential(server.accountName, server.accountKey);
  return generateBlobSASQueryParameters(
    {
      containerName,
      permissions: ContainerSASPermissions.parse('racwdl'),
      expiresOn: new Date(Date.now() + 3600_000),
    },
    credential,
  ).toString();
}

describe('credentials against Azurite', () => {
  it('a connection string (config, then AZURE_STORAGE_CONNECTION_STRING)', async () => {
    const prefix = `cs/${randomUUID()}`;
    const fromConfig = new AzureStore({
      container: containerName,
      prefix,
      connectionString: server.connectionString,
      env: {},
    });
    expect((fromConfig.backend as { auth?: string }).auth).toBe('connection string');
    await roundTrip(fromConfig, prefix);
    const env = { AZURE_STORAGE_CONNECTION_STRING: server.connectionString, AZURE_STORAGE_KEY: 'ignored' };
    await roundTrip(new AzureStore({ container: containerName, prefix, env }), prefix);
  });

  it('the account key (AZURE_STORAGE_KEY) with the account and endpoint', async () => {
    const prefix = `key/${randomUUID()}`;
    const store = new AzureStore({
      container: containerName,
      prefix,
      account: server.accountName,
      endpoint: server.blobEndpoint,
      env: { AZURE_STORAGE_KEY: server.accountKey },
    });
    expect((store.backend as { auth?: string }).auth).toBe('account key');
    await roundTrip(store, prefix);
    // the emulator's account is read from its endpoint's path when not given
    const implicit = new AzureStore({
      container: containerName,
      prefix,
      endpoint: server.blobEndpoint,
      env: { AZURE_STORAGE_KEY: server.accountKey },
    });
    await roundTrip(implicit, prefix);
  });

  it('a SAS token (config, then AZURE_STORAGE_SAS_TOKEN), deletes in batches included', async () => {
    const prefix = `sas/${randomUUID()}`;
    const sas = sasToken();
    await roundTrip(
      new AzureStore({
        container: containerName,
        prefix,
        endpoint: server.blobEndpoint,
        sasToken: sas,
        env: {},
      }),
      prefix,
    );
    const store = new AzureStore({
      container: containerName,
      prefix,
      endpoint: server.blobEndpoint,
      env: { AZURE_STORAGE_SAS_TOKEN: `?${sas}` },
    });
    expect((store.backend as { auth?: string }).auth).toBe('SAS token');
    await store.put('a', Buffer.from('a'));
    await store.put('b', Buffer.from('b'));
    expect(await store.deleteMany(['a', 'b', 'inventory.img', 'missing'])).toEqual({ errors: [] });
    const left: string[] = [];
    for await (const meta of store.list()) left.push(meta.key);
    expect(left).toEqual([]);
    await store.close();
  });

  it('a wrong account key fails PermissionDenied in one line naming the mode and the other variables', async () => {
    const wrong = Buffer.from('not the key of this account').toString('base64');
    const store = new AzureStore({
      container: containerName,
      endpoint: server.blobEndpoint,
      env: { AZURE_STORAGE_KEY: wrong },
      retry: false,
    });
    const error = await store.head('k').catch((e: unknown) => e);
    expect(StoreError.is(error, 'PermissionDenied')).toBe(true);
    const message = (error as Error).message;
    expect(message).not.toContain('\n');
    expect(message).not.toContain(wrong);
    expect(message).toContain('access denied with the account key (AZURE_STORAGE_KEY)');
    expect(message).toContain('AZURE_STORAGE_CONNECTION_STRING');
    expect((error as StoreError).retryable).toBe(false);
  });

  it('a missing container is InvalidArgument naming the store, for reads and writes', async () => {
    const store = new AzureStore({
      container: 'no-such-container',
      prefix: 'team',
      connectionString: server.connectionString,
      retry: false,
    });
    for (const action of [
      () => store.head('k'),
      () => store.get('k'),
      () => store.put('k', Buffer.from('x')),
      async () => {
        for await (const _ of store.list()) break;
      },
    ]) {
      const error = await action().catch((e: unknown) => e);
      expect(StoreError.is(error, 'InvalidArgument'), String(error)).toBe(true);
      expect((error as Error).message).toContain('the store az://no-such-container/team does not exist');
    }
  });
});
