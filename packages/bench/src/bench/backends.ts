import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Checkpoints } from '@ckpt/core';
import { startBenchAzurite } from './azurite.js';
import type { BenchServer } from './bench-server.js';
import { startBenchFakeGcs } from './fake-gcs.js';
import { type BenchMinio, startBenchMinio } from './minio.js';
import { filesUnder } from './sdk.js';
import { openStore } from './stores.js';
import {
  awsTool,
  azcopyTool,
  cpFsyncTool,
  cpTool,
  type ReferenceTool,
  rcloneAzureRemote,
  rcloneGcsRemote,
  rcloneS3Remote,
  rcloneTool,
  resticTool,
  s5cmdTool,
} from './tools.js';
import type { BackendKind, StoreSpec } from './types.js';

/** The reference tools the benchmark can compare with on an object store. */
export type StoreToolName = 'aws' | 'rclone' | 's5cmd' | 'restic' | 'azcopy';

/** Binaries of the tools built by `scripts/install-test-tools.sh --bench` that were found. */
export interface BuiltTools {
  s5cmd?: string;
  restic?: string;
  azcopy?: string;
}

/** A reference tool with somewhere to copy to. */
export interface ToolTarget {
  tool: ReferenceTool;
  /** A fresh, empty target: a path that does not exist yet, or a new bucket. */
  newTarget(label: string): Promise<string>;
  /** Local files holding a target's data (the page-cache warm-up reads them). */
  targetPaths(target: string): string[];
  /** Bytes a target holds (objects, or files of a folder). */
  targetBytes(target: string): Promise<number>;
  dropTarget(target: string): Promise<void>;
}

/** A store backend as the benchmark drives it. */
export interface Backend {
  kind: BackendKind;
  /** A fresh, empty store. */
  newStore(label: string): Promise<StoreSpec>;
  /** Local files holding a store's data. */
  storePaths(spec: StoreSpec): string[];
  dropStore(spec: StoreSpec): Promise<void>;
  /** Removes the newest generation of `model` (resets a store to the generation before it). */
  dropLatest(spec: StoreSpec, model: string): Promise<void>;
  tools: ToolTarget[];
  /** The object-store server behind the backend (its process's CPU time is measured). */
  server?: BenchServer;
  /** The MinIO behind an s3 backend (the raw SDK transfers run against it). */
  minio?: BenchMinio;
  stop(): Promise<void>;
}

/** Sum of the sizes of the files under `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const file of await filesUnder(dir).catch(() => [])) sum += (await stat(file)).size;
  return sum;
}

async function dropLatest(spec: StoreSpec, model: string): Promise<void> {
  const store = await openStore(spec);
  const checkpoints = new Checkpoints(store);
  try {
    const generations = await checkpoints.generations(model);
    await checkpoints.delete(model, { generation: generations.at(-1)!.generation });
  } finally {
    await checkpoints.close();
    await store.close?.();
  }
}

/** The filesystem store under `<work>/fs`, compared with `cp -r` and a local restic repository. */
export async function fsBackend(work: string, withTools: boolean, built: BuiltTools): Promise<Backend> {
  const root = join(work, 'fs');
  await mkdir(root, { recursive: true });
  const tools = withTools ? [cpTool, cpFsyncTool] : [];
  if (withTools && built.restic)
    tools.push(resticTool(built.restic, (path) => path, join(work, 'restic-cache')));
  const remove = (path: string) => rm(path, { recursive: true, force: true });
  const folderTarget = (tool: ReferenceTool): ToolTarget => ({
    tool,
    newTarget: async (label) => {
      const target = join(root, `${tool.name.replace(/\W+/g, '-')}-${label}`);
      await remove(target);
      return target;
    },
    targetPaths: (target) => [target],
    targetBytes: folderBytes,
    dropTarget: remove,
  });
  return {
    kind: 'fs',
    newStore: async (label) => {
      const spec: StoreSpec = { kind: 'fs', root: join(root, `store-${label}`) };
      await remove(spec.root);
      return spec;
    },
    storePaths: (spec) => (spec.kind === 'fs' ? [spec.root] : []),
    dropStore: (spec) => (spec.kind === 'fs' ? remove(spec.root) : Promise.resolve()),
    dropLatest,
    tools: tools.map(folderTarget),
    stop: () => remove(root),
  };
}

/** The bucket a store spec of a server backend names. */
function bucketOf(spec: StoreSpec): string {
  if (spec.kind === 'fs') throw new Error(`not a bucket store: ${spec.root}`);
  return spec.kind === 'azure' ? spec.container : spec.bucket;
}

/**
 * A backend on an object-store server: ckpt's stores and every tool's targets are buckets of the
 * same server; `configDir` holds the tools' configuration and is removed with the server.
 */
function serverBackend(
  kind: Exclude<BackendKind, 'fs'>,
  server: BenchServer,
  spec: (bucket: string) => StoreSpec,
  tools: ReferenceTool[],
  configDir: string,
): Backend {
  return {
    kind,
    server,
    newStore: async (label) => spec(await server.newBucket(label)),
    storePaths: (s) => server.bucketPaths(bucketOf(s)),
    dropStore: (s) => server.dropBucket(bucketOf(s)),
    dropLatest,
    tools: tools.map((tool) => ({
      tool,
      newTarget: (label) => server.newBucket(label),
      targetPaths: (bucket) => server.bucketPaths(bucket),
      targetBytes: (bucket) => server.bucketBytes(bucket),
      dropTarget: (bucket) => server.dropBucket(bucket),
    })),
    stop: async () => {
      await server.stop();
      await rm(configDir, { recursive: true, force: true });
    },
  };
}

async function toolConfigDir(work: string, kind: BackendKind): Promise<string> {
  const dir = join(work, `tool-config-${kind}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

/**
 * MinIO over `<work>/minio` (started by `@ckpt/test-servers`, as in the tests), compared with
 * `aws s3 sync`, `rclone copy`, `s5cmd sync` and restic's s3 backend on the same server.
 */
export async function s3Backend(work: string, names: StoreToolName[], built: BuiltTools): Promise<Backend> {
  const minio = await startBenchMinio(join(work, 'minio'));
  const configDir = await toolConfigDir(work, 's3');
  const tools: ReferenceTool[] = [];
  if (names.includes('aws')) tools.push(await awsTool(minio, configDir));
  if (names.includes('rclone')) tools.push(await rcloneTool(configDir, rcloneS3Remote(minio)));
  if (names.includes('s5cmd') && built.s5cmd) tools.push(s5cmdTool(built.s5cmd, minio));
  if (names.includes('restic') && built.restic) {
    const repository = (bucket: string) => `s3:${minio.endpoint}/${bucket}`;
    tools.push(resticTool(built.restic, repository, join(work, 'restic-cache'), minio));
  }
  const { endpoint, credentials } = minio;
  const backend = serverBackend(
    's3',
    minio,
    (bucket) => ({ kind: 's3', endpoint, credentials, bucket }),
    tools,
    configDir,
  );
  return { ...backend, minio };
}

/** fake-gcs-server over `<work>/fake-gcs` (filesystem backend), compared with `rclone copy`. */
export async function gcsBackend(work: string, names: StoreToolName[]): Promise<Backend> {
  const gcs = await startBenchFakeGcs(join(work, 'fake-gcs'));
  const configDir = await toolConfigDir(work, 'gcs');
  const tools: ReferenceTool[] = [];
  if (names.includes('rclone')) tools.push(await rcloneTool(configDir, rcloneGcsRemote(gcs.endpoint)));
  const { endpoint: apiEndpoint, projectId } = gcs;
  return serverBackend(
    'gcs',
    gcs,
    (bucket) => ({ kind: 'gcs', bucket, apiEndpoint, projectId }),
    tools,
    configDir,
  );
}

/** Azurite over `<work>/azurite`, compared with `azcopy copy` and `rclone copy`. */
export async function azureBackend(
  work: string,
  names: StoreToolName[],
  built: BuiltTools,
): Promise<Backend> {
  const azurite = await startBenchAzurite(join(work, 'azurite'));
  const configDir = await toolConfigDir(work, 'azure');
  const { blobEndpoint, sas, connectionString } = azurite;
  const tools: ReferenceTool[] = [];
  if (names.includes('azcopy') && built.azcopy)
    tools.push(azcopyTool(built.azcopy, blobEndpoint, sas, configDir));
  if (names.includes('rclone')) tools.push(await rcloneTool(configDir, rcloneAzureRemote(blobEndpoint, sas)));
  return serverBackend(
    'azure',
    azurite,
    (container) => ({ kind: 'azure', container, connectionString }),
    tools,
    configDir,
  );
}
