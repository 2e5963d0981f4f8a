import { cp } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCheckpoint } from './generate.js';
import type { WorkloadSeed } from './rng.js';

/** The part every model of a family holds whole: where it was written, and its size. */
export interface SharedBase {
  dir: string;
  bytes: number;
  /** Bytes not in all-zero pages. */
  contentBytes: number;
}

/** A model of a family: where it is, all its bytes, and the content bytes no other model of the family has. */
export interface SharedBaseModel {
  dir: string;
  bytes: number;
  /** Bytes not in all-zero pages, the base's included. */
  contentBytes: number;
  /** Bytes of the model's own files that are not in all-zero pages: what it does not share. */
  unsharedBytes: number;
}

/**
 * The part every model of a family shares, as models restored from one container image share
 * their runtime, libraries and rootfs pages: a checkpoint of about `bytes` (default page mix)
 * written to `dir`.
 */
export async function generateSharedBase(
  dir: string,
  seed: WorkloadSeed,
  bytes: number,
): Promise<SharedBase> {
  const written = await generateCheckpoint(dir, { seed, totalBytes: bytes });
  return { dir, bytes: written.bytes, contentBytes: written.bytes - written.zeroBytes };
}

/**
 * A model of a family in `dir` (missing): a copy of `base`, and under `weights/` a checkpoint of
 * about `weightsBytes` of its own (mostly random pages: weights offloaded to host memory), whose
 * pages no other `seed` has.
 */
export async function generateSharedBaseModel(
  dir: string,
  base: SharedBase,
  seed: WorkloadSeed,
  weightsBytes: number,
): Promise<SharedBaseModel> {
  await cp(base.dir, dir, { recursive: true, preserveTimestamps: true });
  const own = await generateCheckpoint(join(dir, 'weights'), {
    seed,
    totalBytes: weightsBytes,
    preset: 'mostly-random',
  });
  const unsharedBytes = own.bytes - own.zeroBytes;
  return {
    dir,
    bytes: base.bytes + own.bytes,
    contentBytes: base.contentBytes + unsharedBytes,
    unsharedBytes,
  };
}
