import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { runConformance } from '@ckpt/testkit';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { AzureBackend } from '../src/index.js';
import { azureRawReader } from './raw-reader.js';

// Every group runs against Azurite, conditional writes and Blob Batch deletes included. One test
// is left out by name: Azurite lists blob names in UTF-16 code-unit order (JavaScript's default
// sort), so a name with a character beyond U+FFFF comes before one in U+E000–U+FFFF, where the
// byte order of their UTF-8 names (the store's promise) puts it after. departures.test.ts shows
// it, and that the store then fails the listing (Internal) rather than yield keys out of order.
const AZURITE_ORDER_TEST = 'lists every key with its size in byte order, non-ASCII and nested keys included';

let server: Azurite;
let container: ContainerClient;

beforeAll(async () => {
  server = await startAzurite();
  const name = await server.createContainer();
  // a new connection per request: Azurite closes idle ones after 5 s (its --blobKeepAliveTimeout
  // is read under another name and ignored), and a client slowed by a loaded machine may reuse
  // one as it closes; the store's retry absorbs that reset, but these tests run without retries
  container = BlobServiceClient.fromConnectionString(server.connectionString, {
    ...AzureBackend.pipeline(),
    keepAliveOptions: { enable: false },
  }).getContainerClient(name);
});
afterAll(async () => {
  await server?.stop();
});

runConformance(
  { describe, it },
  {
    name: 'AzureBackend (Azurite)',
    skipTests: {
      [AZURITE_ORDER_TEST]:
        'Azurite 3.37.0 lists names in UTF-16 order, not UTF-8 byte order (see departures.test.ts)',
    },
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
