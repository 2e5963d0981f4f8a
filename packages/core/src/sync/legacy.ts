import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectMeta, ObjectStore } from '../store.js';
import type { EngineContext } from './engine-context.js';
import { legacyPrefix } from './layout.js';
import { removeLocalState } from './local-state.js';
import { Progress } from './progress.js';
import { pathProblem, resolveInside } from './rel-path.js';
import { eachLimited } from './run-all.js';
import { swapIn } from './swap.js';
import type { PullOptions, PullResult } from './types.js';

/**
 * Read-only support for checkpoints written by llmux 0.7 (`<model>/images/<file>`, one plain
 * object per file, no manifest, no hashes). They are pulled whole; sizes are checked against the
 * listing, but content cannot be verified, which the result says (`legacy: true`).
 */
export async function legacyObjects(
  store: ObjectStore,
  model: string,
  signal?: AbortSignal,
): Promise<ObjectMeta[]> {
  const out: ObjectMeta[] = [];
  for await (const meta of legacyListing(store, model, signal)) out.push(meta);
  return out;
}

export async function legacyExists(
  store: ObjectStore,
  model: string,
  signal?: AbortSignal,
): Promise<boolean> {
  for await (const _ of legacyListing(store, model, signal)) return true;
  return false;
}

/**
 * The objects right under `<model>/images/`. llmux 0.7 never nested them; a deeper key belongs to
 * another model (`a/images/images/x` is model `a/images`'s file, not model `a`'s).
 */
async function* legacyListing(store: ObjectStore, model: string, signal?: AbortSignal) {
  const prefix = legacyPrefix(model);
  for await (const meta of store.list(prefix, { signal })) {
    if (!meta.key.slice(prefix.length).includes('/')) yield meta;
  }
}

export async function pullLegacy(
  ctx: EngineContext,
  model: string,
  root: string,
  options: PullOptions,
  started: number,
): Promise<PullResult> {
  const { signal } = options;
  const objects = await legacyObjects(ctx.store, model, signal);
  const prefix = legacyPrefix(model);
  const bytes = objects.reduce((sum, o) => sum + o.size, 0);
  const parent = path.dirname(root);
  await mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.${path.basename(root)}.ckpt-pull-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  const progress = new Progress('download', { bytes, files: objects.length }, options.onProgress);
  try {
    // every download settles before the staging tree is removed
    await eachLimited(objects, ctx.concurrency, async (meta) => {
      throwIfAborted(signal, 'pull', meta.key);
      const name = meta.key.slice(prefix.length);
      const problem = pathProblem(name);
      if (problem || name.includes('/')) {
        throw new StoreError('Integrity', `unsafe legacy file name: ${problem ?? 'nested path'}`, {
          operation: 'pull',
          key: meta.key,
        });
      }
      const file = resolveInside(staging, name);
      const got = await ctx.store.get(meta.key, { signal });
      await pipeline(got.body, createWriteStream(file, { flags: 'wx' }), { signal });
      const size = (await lstat(file)).size;
      if (size !== meta.size) {
        throw new StoreError('Integrity', `got ${size} bytes, the listing says ${meta.size}`, {
          operation: 'pull',
          key: meta.key,
        });
      }
      progress.add(size, 1);
    });
    progress.done();
    await swapIn(staging, root, !!(await lstat(root).catch(() => undefined)));
    await removeLocalState(ctx.stateDir, root);
  } catch (err) {
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
  const durationMs = Date.now() - started;
  return {
    model,
    generation: 'legacy',
    files: objects.length,
    bytes,
    bytesTransferred: bytes,
    chunksNew: 0,
    chunksReused: 0,
    chunksResumed: 0,
    chunksShared: 0,
    chunksCached: 0,
    zeroBytes: 0,
    durationMs,
    throughput: durationMs > 0 ? (bytes / durationMs) * 1000 : 0,
    upToDate: false,
    legacy: true,
  };
}
