// Where Azurite departs from what the conformance suite expects of Azure Blob Storage, shown on
// the real server so the skip in conformance.test.ts stays honest: when Azurite changes, this fails.
import { randomUUID } from 'node:crypto';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { BackendStore, StoreError } from '@ckpt/core';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AzureBackend } from '../src/index.js';

let server: Azurite;
let container: ContainerClient;

beforeAll(async () => {
  server = await startAzurite();
  container = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(
    await server.createContainer(),
  );
});
afterAll(async () => {
  await server?.stop();
});

const byteOrder = (keys: string[]) =>
  [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

it('Azurite lists names in UTF-16 order: U+1F600 before U+FF21, which UTF-8 byte order puts first', async () => {
  const prefix = `order/${randomUUID()}/`;
  const keys = ['a', 'Z', 'é', 'Ａ', '😀', '~'];
  for (const key of keys) await container.getBlockBlobClient(prefix + key).upload('x', 1);
  const listed: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix })) listed.push(item.name.slice(prefix.length));
  expect(byteOrder(keys)).toEqual(['Z', 'a', '~', 'é', 'Ａ', '😀']);
  expect(listed).toEqual([...keys].sort()); // JavaScript's UTF-16 sort
  expect(listed).toEqual(['Z', 'a', '~', 'é', '😀', 'Ａ']);

  // through the store, the departure is an error, never a listing out of order
  const store = new BackendStore(new AzureBackend({ containerClient: container, prefix }), { retry: false });
  const seen: string[] = [];
  const error = await (async () => {
    for await (const meta of store.list()) seen.push(meta.key);
  })().catch((e: unknown) => e);
  expect(StoreError.is(error, 'Internal')).toBe(true);
  expect(seen).toEqual(['Z', 'a', '~', 'é', '😀']);
  // names within the Basic Multilingual Plane list in byte order
  const bmp: string[] = [];
  for await (const meta of store.list('', {})) {
    if (meta.key === '😀') break;
    bmp.push(meta.key);
  }
  expect(bmp).toEqual(byteOrder(['a', 'Z', 'é', '~']));
});
