// The stores a reliability campaign runs against: one per backend with a local server (the
// filesystem, S3 on MinIO, GCS on fake-gcs-server, Azure on Azurite), each as the `ckpt` command
// reaches it (a URL and credentials in the environment) and as the checks open it in this process.
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { ListMultipartUploadsCommand, ListPartsCommand, S3Client } from '@aws-sdk/client-s3';
import { ContainerClient } from '@azure/storage-blob';
import { type ObjectStore, openStore } from '@ckpt/core';
import { startAzurite, startFakeGcs, startMinio } from '@ckpt/test-servers';
import type { Leftover } from './unreferenced.js';

export const BACKENDS = ['fs', 's3', 'gcs', 'azure'] as const;
export type BackendName = (typeof BACKENDS)[number];

export interface CampaignStore {
  backend: BackendName;
  /** The command's `--store`. */
  url: string;
  /** What the command needs in its environment besides `PATH`: credentials. */
  env: Record<string, string>;
  /** The same store, opened in this process. */
  open(): Promise<ObjectStore>;
  /** What the store holds outside its keys (uploads never completed), which `list` never shows. */
  hidden(): Promise<Leftover[]>;
  stop(): Promise<void>;
}

const MiB = 1024 * 1024;
// small enough that an 8 MiB pack goes in several requests: a kill can fall between them
const PART = 5 * MiB;
const GCS_CHUNK = MiB;
const AZURE_BLOCK = MiB;

/** Starts `backend`'s server (none for `fs`) and makes an empty store on it. */
export async function startStore(backend: BackendName, work: string): Promise<CampaignStore> {
  if (backend === 'fs') {
    const root = path.join(work, 'store');
    const tmp = path.join(root, '.ckpt-fs', 'tmp');
    return {
      backend,
      url: root,
      env: {},
      open: () => openStore(root),
      hidden: async () => [{ what: 'temp files', ...(await filesIn(tmp)), gcRemoves: true }],
      stop: async () => {},
    };
  }
  if (backend === 's3') {
    const server = await startMinio();
    const bucket = await server.createBucket();
    const settings = {
      bucket,
      prefix: 'kills',
      endpoint: server.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      conditionalWrites: true,
      partSize: PART,
      multipartThreshold: PART,
    };
    const client = new S3Client(server.clientConfig());
    return {
      backend,
      url: `s3://${bucket}/kills?${query(settings, ['bucket', 'prefix'])}`,
      env: {
        AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      },
      open: () => openStore({ type: 's3', ...settings, credentials: server.credentials }),
      hidden: async () => [
        { what: 'incomplete multipart uploads', ...(await uploads(client, bucket)), gcRemoves: true },
      ],
      stop: async () => {
        client.destroy();
        await server.stop();
      },
    };
  }
  if (backend === 'gcs') {
    const server = await startFakeGcs();
    const bucket = await server.createBucket();
    const settings = {
      bucket,
      prefix: 'kills',
      apiEndpoint: server.endpoint,
      projectId: server.projectId,
      resumableThreshold: PART,
      chunkSize: GCS_CHUNK,
    };
    return {
      backend,
      url: `gs://${bucket}/kills?${query(settings, ['bucket', 'prefix'])}`,
      env: {},
      open: () => openStore({ type: 'gcs', ...settings }),
      // the JSON API lists no resumable upload session: GCS expires them after a week
      hidden: async () => [],
      stop: server.stop,
    };
  }
  const server = await startAzurite();
  const container = await server.createContainer();
  const settings = {
    container,
    prefix: 'kills',
    endpoint: server.blobEndpoint,
    blockSize: AZURE_BLOCK,
    singleUploadThreshold: PART,
  };
  const client = new ContainerClient(server.connectionString, container);
  return {
    backend,
    url: `az://${container}/kills?${query(settings, ['container', 'prefix'])}`,
    env: { AZURE_STORAGE_CONNECTION_STRING: server.connectionString },
    open: () => openStore({ type: 'azure', ...settings, connectionString: server.connectionString }),
    hidden: async () => [{ what: 'uncommitted blocks', ...(await uncommitted(client)), gcRemoves: false }],
    stop: server.stop,
  };
}

function query(settings: Record<string, string | number | boolean>, skip: string[]): string {
  return new URLSearchParams(
    Object.entries(settings)
      .filter(([name]) => !skip.includes(name))
      .map(([name, value]): [string, string] => [name, String(value)]),
  ).toString();
}

async function filesIn(dir: string): Promise<{ count: number; bytes: number }> {
  const names = await readdir(dir).catch(() => []);
  let bytes = 0;
  for (const name of names) bytes += (await stat(path.join(dir, name)).catch(() => ({ size: 0 }))).size;
  return { count: names.length, bytes };
}

async function uploads(client: S3Client, bucket: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  let markers: { KeyMarker?: string; UploadIdMarker?: string } = {};
  for (;;) {
    const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, ...markers }));
    for (const { Key, UploadId } of page.Uploads ?? []) {
      count++;
      const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key, UploadId }));
      for (const part of parts.Parts ?? []) bytes += part.Size ?? 0;
    }
    if (!page.IsTruncated) return { count, bytes };
    markers = { KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker };
  }
}

/** Blobs that have staged blocks but no committed block list: puts killed before their commit. */
async function uncommitted(client: ContainerClient): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for await (const blob of client.listBlobsFlat({ includeUncommitedBlobs: true })) {
    const blocks = await client.getBlockBlobClient(blob.name).getBlockList('uncommitted');
    const staged = (blocks.uncommittedBlocks ?? []).reduce((sum, block) => sum + block.size, 0);
    if (!staged) continue;
    count++;
    bytes += staged;
  }
  return { count, bytes };
}
