// Large blobs through staged blocks against Azurite: a ≥ 100 MiB stream of unknown length in
// small blocks staged in parallel (bounded), committed with one block list; an abort or a failing
// body midway commits nothing.
import { createHash, randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { BlobServiceClient, BlockBlobClient, type ContainerClient } from '@azure/storage-blob';
import { StoreError } from '@ckpt/core';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { AzureStore } from '../src/index.js';

const MiB = 1024 * 1024;
const SIZE = 100 * MiB + 12_345;
const BLOCK = 4 * MiB;

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

/** `size` bytes of a seeded pattern in 1 MiB chunks, generated as read; `onChunk` sees each. */
function pattern(size: number, onChunk?: (sent: number) => void | Promise<void>) {
  const hash = createHash('sha256');
  async function* generate() {
    for (let sent = 0; sent < size; ) {
      const chunk = Buffer.alloc(Math.min(MiB, size - sent), (sent / MiB) % 251);
      chunk.writeUInt32BE(sent >>> 0, 0);
      hash.update(chunk);
      sent += chunk.length;
      await onChunk?.(sent);
      yield chunk;
    }
  }
  return { stream: Readable.from(generate()), digest: () => hash.digest('hex') };
}

/**
 * Counts the Put Block and Put Block List requests every block blob client sends from now on (the
 * requests still go to Azurite), and the most Put Blocks in flight at once.
 */
function countBlocks() {
  for (const spy of spies.splice(0)) spy.mockRestore();
  const state = { staged: 0, inFlight: 0, maxInFlight: 0, committed: 0 };
  const stage = BlockBlobClient.prototype.stageBlock;
  const commit = BlockBlobClient.prototype.commitBlockList;
  spies.push(
    vi.spyOn(BlockBlobClient.prototype, 'stageBlock').mockImplementation(async function (
      this: BlockBlobClient,
      ...args
    ) {
      state.staged++;
      state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
      try {
        return await stage.apply(this, args);
      } finally {
        state.inFlight--;
      }
    }),
    vi.spyOn(BlockBlobClient.prototype, 'commitBlockList').mockImplementation(async function (
      this: BlockBlobClient,
      ...args
    ) {
      state.committed++;
      return commit.apply(this, args);
    }),
  );
  return state;
}

const spies: { mockRestore(): void }[] = [];
afterEach(() => {
  for (const spy of spies.splice(0)) spy.mockRestore();
});

it(`a ${(SIZE / MiB).toFixed(1)} MiB stream goes up as ${BLOCK / MiB} MiB blocks, at most 4 in flight, and reads back byte-exact`, async () => {
  const prefix = `large/${randomUUID()}`;
  const store = new AzureStore({
    containerClient: container,
    prefix,
    blockSize: BLOCK,
    concurrency: 4,
  });
  const counter = countBlocks();
  const source = pattern(SIZE);
  const put = await store.put('pages-1.img', source.stream);
  expect(put.size).toBe(SIZE);
  expect(counter.staged).toBe(Math.ceil(SIZE / BLOCK));
  expect(counter.maxInFlight).toBeGreaterThan(1);
  expect(counter.maxInFlight).toBeLessThanOrEqual(4);
  expect(counter.committed).toBe(1);

  // the plain SDK sees one committed blob of that many blocks
  const blob = container.getBlockBlobClient(`${prefix}/pages-1.img`);
  const list = await blob.getBlockList('all');
  expect(list.committedBlocks?.length).toBe(Math.ceil(SIZE / BLOCK));
  expect(list.uncommittedBlocks ?? []).toEqual([]);
  expect((await blob.getProperties()).contentLength).toBe(SIZE);

  const got = await store.get('pages-1.img');
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of got.body) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  expect(bytes).toBe(SIZE);
  expect(hash.digest('hex')).toBe(source.digest());
  await store.close();
}, 300_000);

it('an abort while blocks are staged commits nothing: no blob, the old one intact', async () => {
  const prefix = `abort/${randomUUID()}`;
  const store = new AzureStore({
    containerClient: container,
    prefix,
    blockSize: MiB,
    singleUploadThreshold: MiB,
    concurrency: 2,
    retry: false,
  });
  await store.put('old.img', Buffer.from('old'));
  for (const key of ['old.img', 'new.img']) {
    const controller = new AbortController();
    const counter = countBlocks();
    const { stream } = pattern(40 * MiB, async (sent) => {
      if (sent >= 12 * MiB) controller.abort(new Error('caller gave up'));
    });
    const error = await store.put(key, stream, { signal: controller.signal }).catch((e: unknown) => e);
    expect(StoreError.is(error, 'Aborted'), String(error)).toBe(true);
    expect(counter.staged).toBeGreaterThan(0);
    expect(counter.committed).toBe(0);
  }
  const committed: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix: `${prefix}/` })) committed.push(item.name);
  expect(committed).toEqual([`${prefix}/old.img`]);
  expect((await container.getBlobClient(`${prefix}/old.img`).downloadToBuffer()).toString()).toBe('old');
  await store.close();
});

it('a body that fails after some blocks were staged commits nothing', async () => {
  const prefix = `fail/${randomUUID()}`;
  const store = new AzureStore({
    containerClient: container,
    prefix,
    blockSize: MiB,
    singleUploadThreshold: MiB,
    retry: false,
  });
  const counter = countBlocks();
  const { stream } = pattern(20 * MiB, (sent) => {
    if (sent >= 9 * MiB) throw new Error('disk read error');
  });
  await expect(store.put('pages.img', stream)).rejects.toThrow(/disk read error/);
  expect(counter.staged).toBeGreaterThan(0);
  expect(counter.committed).toBe(0);
  await expect(store.head('pages.img')).rejects.toMatchObject({ code: 'NotFound' });
  await store.close();
});
