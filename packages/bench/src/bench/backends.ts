import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Checkpoints, type ObjectStore } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { S3Store } from '@ckpt/s3';
import { type BenchMinio, startBenchMinio } from './minio.js';
import { filesUnder, s3StoreOptions } from './sdk.js';
import {
  awsTool,
  cpFsyncTool,
  cpTool,
  type ReferenceTool,
  rcloneTool,
  resticTool,
  s5cmdTool,
} from './tools.js';
import type { BackendKind, StoreSpec } from './types.js';

/** The S3 tools the benchmark can compare with. */
export type S3ToolName = 'aws' | 'rclone' | 's5cmd' | 'restic';

/** Binaries of the tools built by `scripts/install-test-tools.sh --bench` that were found. */
export interface BuiltTools {
  s5cmd?: string;
  restic?: string;
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
  /** The MinIO behind an s3 backend. */
  server?: BenchMinio;
  stop(): Promise<void>;
}

function open(spec: StoreSpec): ObjectStore {
  if (spec.kind === 'fs') return new FsStore({ root: spec.root });
  return new S3Store(s3StoreOptions(spec));
}

/** Sum of the sizes of the files under `dir`. */
async function folderBytes(dir: string): Promise<number> {
  let sum = 0;
  for (const file of await filesUnder(dir).catch(() => [])) sum += (await stat(file)).size;
  return sum;
}

async function dropLatest(spec: StoreSpec, model: string): Promise<void> {
  const store = open(spec);
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

/**
 * MinIO over `<work>/minio` (started by `@ckpt/test-servers`, as in the tests), compared with
 * `aws s3 sync`, `rclone copy`, `s5cmd sync` and restic's s3 backend on the same server.
 */
export async function s3Backend(work: string, tools: S3ToolName[], built: BuiltTools): Promise<Backend> {
  const server = await startBenchMinio(join(work, 'minio'));
  const configDir = join(work, 'tool-config');
  await mkdir(configDir, { recursive: true });
  const bucketTarget = (tool: ReferenceTool): ToolTarget => ({
    tool,
    newTarget: (label) => server.newBucket(label),
    targetPaths: (bucket) => [join(server.directory, bucket)],
    targetBytes: (bucket) => server.bucketBytes(bucket),
    dropTarget: (bucket) => server.dropBucket(bucket),
  });
  const targets: ToolTarget[] = [];
  if (tools.includes('aws')) targets.push(bucketTarget(await awsTool(server, configDir)));
  if (tools.includes('rclone')) targets.push(bucketTarget(await rcloneTool(server, configDir)));
  if (tools.includes('s5cmd') && built.s5cmd) targets.push(bucketTarget(s5cmdTool(built.s5cmd, server)));
  if (tools.includes('restic') && built.restic) {
    const repository = (bucket: string) => `s3:${server.endpoint}/${bucket}`;
    targets.push(bucketTarget(resticTool(built.restic, repository, join(work, 'restic-cache'), server)));
  }
  return {
    kind: 's3',
    server,
    newStore: async (label) => ({
      kind: 's3',
      endpoint: server.endpoint,
      credentials: server.credentials,
      bucket: await server.newBucket(label),
    }),
    storePaths: (spec) => (spec.kind === 's3' ? [join(server.directory, spec.bucket)] : []),
    dropStore: (spec) => (spec.kind === 's3' ? server.dropBucket(spec.bucket) : Promise.resolve()),
    dropLatest,
    tools: targets,
    stop: async () => {
      await server.stop();
      await rm(server.directory, { recursive: true, force: true });
      await rm(configDir, { recursive: true, force: true });
    },
  };
}
