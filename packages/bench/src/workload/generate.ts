import type { FileHandle } from 'node:fs/promises';
import { mkdir, mkdtemp, open, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { StoreError } from '@ckpt/core';
import type { PlannedFile } from './model.js';
import { resolveWorkloadOptions, type WorkloadOptions } from './options.js';
import { type ContentContext, chunkBuffers, contentContext, fileChunks } from './page-content.js';
import { planWithConfig } from './plan.js';
import type { WorkloadSeed } from './rng.js';
import { type CheckpointSummary, summarizePlan } from './summary.js';

/** Options of {@link generateCheckpoint}: the workload knobs plus which version to write. */
export interface GenerateOptions extends WorkloadOptions {
  seed: WorkloadSeed;
  /** Default 0. */
  version?: number;
  /** `fdatasync` every file before it counts as written. Default false. */
  fsync?: boolean;
}

/** What {@link generateCheckpoint} wrote. */
export interface GenerateResult extends CheckpointSummary {
  dir: string;
  seed: WorkloadSeed;
  preset: string;
  /** Wall time of planning and writing. */
  seconds: number;
}

async function writeAll(handle: FileHandle, chunk: Buffer): Promise<void> {
  for (let done = 0; done < chunk.length; ) {
    done += (await handle.write(chunk, done, chunk.length - done)).bytesWritten;
  }
}

/** Writes one file, generating the next chunk while the previous one is being written. */
async function writePlannedFile(
  path: string,
  file: PlannedFile,
  ctx: ContentContext,
  ring: Buffer[],
  fsync: boolean,
) {
  const handle = await open(path, 'wx');
  let pending: Promise<void> | undefined;
  try {
    // Two buffers: one being written while the other is filled.
    for (const chunk of fileChunks(file, ctx, ring[0]!.length, ring)) {
      await pending;
      pending = writeAll(handle, chunk);
    }
    await pending;
    if (fsync) await handle.datasync();
  } finally {
    await pending?.catch(() => {});
    await handle.close();
  }
}

async function checkTarget(target: string): Promise<boolean> {
  try {
    const entries = await readdir(target);
    if (entries.length > 0) {
      throw new StoreError('InvalidArgument', 'the directory exists and is not empty', {
        operation: 'generateCheckpoint',
        key: target,
      });
    }
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return false;
    if (code === 'ENOTDIR') {
      throw new StoreError('InvalidArgument', 'exists and is not a directory', {
        operation: 'generateCheckpoint',
        key: target,
      });
    }
    throw err;
  }
}

/**
 * Writes version `options.version` of the workload of `options.seed` into `dir`, which must be
 * missing or empty: a CRIU-like image directory of about `totalBytes` (see `WorkloadOptions`).
 * Files are written into a temporary sibling directory renamed into place at the end, so `dir`
 * never holds half a checkpoint. Memory stays at a few blocks whatever the size.
 *
 * @example
 * ```ts
 * await generateCheckpoint('/tmp/ckpt-v0', { seed: 1, totalBytes: 512 * 2 ** 20 });
 * await generateCheckpoint('/tmp/ckpt-v1', { seed: 1, version: 1, totalBytes: 512 * 2 ** 20 });
 * ```
 */
export async function generateCheckpoint(dir: string, options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const { seed, version = 0, fsync = false } = options ?? ({} as Partial<GenerateOptions>);
  const config = resolveWorkloadOptions(options);
  const plan = planWithConfig(seed as WorkloadSeed, version, config);
  const target = resolve(dir);
  const fail = (err: unknown) => {
    if (StoreError.is(err)) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const kind = code === 'EACCES' || code === 'EPERM' ? 'PermissionDenied' : 'Internal';
    return new StoreError(kind, (err as Error).message, {
      operation: 'generateCheckpoint',
      key: target,
      cause: err,
    });
  };
  let temp: string | undefined;
  try {
    const existed = await checkTarget(target);
    await mkdir(dirname(target), { recursive: true });
    temp = await mkdtemp(join(dirname(target), `.${basename(target)}.partial-`));
    const ctx = contentContext(plan);
    const ring = chunkBuffers(2, config.blockBytes);
    for (const file of plan.files) {
      const path = join(temp, ...file.path.split('/'));
      await mkdir(dirname(path), { recursive: true });
      await writePlannedFile(path, file, ctx, ring, fsync === true);
    }
    if (existed) await rmdir(target);
    await rename(temp, target);
    temp = undefined;
  } catch (err) {
    if (temp) await rm(temp, { recursive: true, force: true });
    throw fail(err);
  }
  const seconds = (performance.now() - started) / 1000;
  return { dir: target, seed: plan.seed, preset: config.preset, ...summarizePlan(plan), seconds };
}
