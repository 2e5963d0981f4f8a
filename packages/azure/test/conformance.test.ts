import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { runConformance } from '@ckpt/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { AzureBackend } from '../src/index.js';
import { azureRawReader } from './raw-reader.js';

let server: Azurite;
let container: ContainerClient;

beforeAll(async () => {
  server = await startAzurite();
  const name = await server.createContainer();
  container = BlobServiceClient.fromConnectionString(server.connectionString, AzureBackend.pipeline()).getContainerClient(name);
});
afterAll(async () => {
  await server?.stop();
});

runConformance(
  { describe, it },
  {
    name: 'AzureBackend (Azurite)',
    async create() {
      const prefix = `conformance/${randomUUID()}`;
      // small blocks and pages: the streaming group stages blocks, every listing pages
      const backend = new AzureBackend({
        containerClient: container,
        prefix,
        blockSize: 1024 * 1024,
        singleUploadThreshold: 2 * 1024 * 1024,
        listPageSize: 100,
      });
      return { backend, raw: azureRawReader(container, prefix) };
    },
  },
);
