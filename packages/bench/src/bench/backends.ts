import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Checkpoints, type ObjectStore } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { S3Store } from '@ckpt/s3';
import { type S3rverProcess, startS3rver } from './s3rver.js';
import { S3RVER_KEY } from './sdk.js';
import { awsTool, cpFsyncTool, cpTool, type ReferenceTool, rcloneTool } from './tools.js';
import type { BackendKind, StoreSpec } from './types.js';

/** A reference tool with somewhere to copy to. */
export interface ToolTarget {
  tool: ReferenceTool;
  /** A fresh, empty target: a path that does not exist yet, or a new bucket. */
  newTarget(label: string): Promise<string>;
  /** Local files holding a target's data (the page-cache warm-up reads them). */
  targetPaths(target: string): string[];
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
  /** The s3rver behind an s3 backend. */
  server?: S3rverProcess;
  stop(): Promise<void>;
}

function open(spec: StoreSpec): ObjectStore {
  if (spec.kind === 'fs') return new FsStore({ root: spec.root });
  return new S3Store({
    bucket: spec.bucket,
    endpoint: spec.endpoint,
    forcePathStyle: true,
    checksums: 'when_required',
    conditionalWrites: false,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
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

/** The filesystem store under `<work>/fs`, compared with `cp -r`. */
export async function fsBackend(work: string, withTools: boolean): Promise<Backend> {
  const root = join(work, 'fs');
  await mkdir(root, { recursive: true });
  const remove = (path: string) => rm(path, { recursive: true, force: true });
  const folderTarget = (tool: ReferenceTool): ToolTarget => ({
    tool,
    newTarget: async (label) => {
      const target = join(root, `${tool.name.replace(/\W+/g, '-')}-${label}`);
      await remove(target);
      return target;
    },
    targetPaths: (target) => [target],
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
    tools: withTools ? [cpTool, cpFsyncTool].map(folderTarget) : [],
    stop: () => remove(root),
  };
}

/** s3rver over `<work>/s3rver`, compared with `aws s3 sync` and `rclone copy` on the same server. */
export async function s3Backend(work: string, tools: ('aws' | 'rclone')[]): Promise<Backend> {
  const server = await startS3rver(join(work, 's3rver'));
  const configDir = join(work, 'tool-config');
  await mkdir(configDir, { recursive: true });
  const bucketTarget = (tool: ReferenceTool): ToolTarget => ({
    tool,
    newTarget: (label) => server.newBucket(label),
    targetPaths: (bucket) => [join(server.directory, bucket)],
    dropTarget: (bucket) => server.dropBucket(bucket),
  });
  const targets: ToolTarget[] = [];
  if (tools.includes('aws')) targets.push(bucketTarget(await awsTool(server.endpoint, configDir)));
  if (tools.includes('rclone')) targets.push(bucketTarget(await rcloneTool(server.endpoint, configDir)));
  return {
    kind: 's3',
    server,
    newStore: async (label) => ({
      kind: 's3',
      endpoint: server.endpoint,
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
