import { chmodSync, linkSync, lstatSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import { lstat, mkdir, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { CacheFiller } from '../cache/cache-filler.js';
import { copyCachedChunks, planCachedChunks } from '../cache/cached-chunks.js';
import { errnoOf } from '../errno.js';
import { StoreError, throwIfAborted } from '../errors.js';
import { ChunkPlaces } from './chunk-places.js';
import type { FileWorkers } from './chunking/index.js';
import { assertOwnTree, assertReplaceable, localDirectory } from './destination.js';
import type { EngineContext } from './engine-context.js';
import { fetchChunks } from './fetch-chunks.js';
import { fileTime } from './file-time.js';
import { otherDirectoryRuns } from './host-directories.js';
import { legacyExists, pullLegacy } from './legacy.js';
import {
  copyLocalChunks,
  identical,
  planLocalCopies,
  type TrustedFile,
  trustedFiles,
} from './local-source.js';
import { readLocalRecord, statePath, trustState, writeLocalState } from './local-state.js';
import { type DirEntry, type FileEntry, MANIFEST_FORMAT, type Manifest, manifestTotals } from './manifest.js';
import { validateGeneration, validateModel } from './names.js';
import { Progress } from './progress.js';
import { planPull } from './pull-plan.js';
import {
  type AdoptedTree,
  adoptStagingTrees,
  createStaging,
  keptForResume,
  ResumedChunks,
  releaseTrees,
  removeLeftovers,
  removeRecord,
  removeTrees,
} from './pull-resume.js';
import { resolveInside } from './rel-path.js';
import { settleAll } from './run-all.js';
import { scanDirectory } from './scan.js';
import { type FileStamp, sameStamp, stampOf } from './stamp.js';
import { listGenerations, readManifestBytes } from './stored-generations.js';
import { restoreInterruptedSwap, swapIn } from './swap.js';
import { eachSliced } from './sync-fs-batches.js';
import { TreeWriter } from './tree-writer.js';
import type { PullOptions, PullResult } from './types.js';

/**
 * Pulls a generation of `model` into `dir` so that it holds exactly the pushed files, or fails
 * and leaves `dir` as it was. Data is written into a hidden sibling directory
 * (`.<name>.ckpt-pull-*`): chunks the old content of `dir` already holds are copied from it, the
 * rest is downloaded, every chunk is checked against its SHA-256, zero runs become holes. Only
 * when all of it is in place is the sibling swapped in for `dir`. A pull that stops before (killed,
 * aborted, a network failure) leaves its sibling for the next pull to resume from
 * (`pull-resume.ts`).
 */
export async function pull(
  ctx: EngineContext,
  model: string,
  dir: string,
  options: PullOptions = {},
): Promise<PullResult> {
  const started = Date.now();
  const { store } = ctx;
  const signal = options.signal;
  validateModel(model);
  const root = localDirectory(dir, 'pull');
  assertReplaceable(root);
  // what a killed pull left: its old tree put back, what cannot be resumed removed, even when this
  // pull has nothing to do
  await restoreInterruptedSwap(root);
  await removeLeftovers(ctx.stateDir, root);
  const existing = await lstat(root).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new StoreError('InvalidArgument', 'the destination exists and is not a directory', {
      operation: 'pull',
      key: root,
    });
  }
  const record = existing ? await readLocalRecord(ctx.stateDir, root) : undefined;
  if (existing && !options.dryRun) {
    const pending = await readLocalRecord(ctx.stateDir, root, 'pending');
    await assertOwnTree(root, [record, pending], !!options.force);
  }
  let generation = options.generation === undefined ? undefined : validateGeneration(options.generation);
  if (generation === undefined) {
    generation = (await listGenerations(store, model, signal)).at(-1);
    if (generation === undefined) {
      if (await legacyExists(store, model, signal)) {
        if (options.dryRun) {
          throw new StoreError('Unsupported', 'a llmux 0.7 checkpoint cannot be pulled with a dry run', {
            operation: 'pull',
            key: model,
          });
        }
        return pullLegacy(ctx, model, root, options, started);
      }
      throw new StoreError('NotFound', 'no checkpoint of this model in the store', {
        operation: 'pull',
        key: model,
      });
    }
  }
  // its bytes are kept for the local record: encoding it again at the end would need the manifest
  // twice more in memory, the peak of a large pull
  const { manifest, bytes: stored } = await readManifestBytes(store, model, generation, signal);
  const totals = manifestTotals(manifest);
  const state = await trustState(record, store.name);
  const result = (extra: Partial<PullResult>): PullResult => {
    const durationMs = Date.now() - started;
    return {
      model,
      generation: generation!,
      files: totals.files,
      bytes: totals.bytes,
      bytesTransferred: 0,
      chunksNew: 0,
      chunksReused: 0,
      chunksResumed: 0,
      chunksShared: 0,
      chunksCached: 0,
      zeroBytes: totals.zeroBytes,
      durationMs,
      throughput: durationMs > 0 ? (totals.bytes / durationMs) * 1000 : 0,
      upToDate: false,
      legacy: false,
      ...extra,
    };
  };

  if (
    state?.model === model &&
    state.generation === generation &&
    state.manifest.checksum === manifest.checksum &&
    (await matchesState(root, state.stamps, manifest))
  ) {
    if (!options.dryRun) {
      // nothing to resume: what stopped pulls left is not needed
      const unneeded = await adoptStagingTrees(ctx.stateDir, root, store.name);
      await removeTrees(ctx.stateDir, root, unneeded);
      releaseTrees(unneeded);
    }
    return result({ upToDate: true });
  }
  if (options.dryRun) return result({ plan: await planPull(existing ? root : undefined, state, manifest) });

  // every downloaded or copied chunk is hashed on the file workers: start them while the tree is built
  if (manifest.chunks.count > 0) ctx.workers().warm();
  const parent = path.dirname(root);
  await mkdir(parent, { recursive: true });
  const encoded = manifest.format === MANIFEST_FORMAT ? stored : undefined;
  const own = await createStaging(
    ctx.stateDir,
    root,
    { store: store.name, model, generation, manifest },
    encoded,
  );
  const staging = own.path;
  let adopted: AdoptedTree[] = [];
  let writer: TreeWriter | undefined; // its handles are closed on failure too
  // what is downloaded goes into the host's chunk cache too (every chunk: the pull waits for room)
  const filler = ctx.cache && new CacheFiller(ctx.cache, ctx.cacheWriter(), { whenFull: 'wait' });
  try {
    // what stopped pulls of this destination wrote, checked chunk by chunk before it is used
    adopted = await adoptStagingTrees(ctx.stateDir, root, store.name);
    // files of the current directory that still hold what the local record says (any model:
    // chunks are named by their hash)
    const trusted = state ? await trustedFiles(root, state) : new Map<string, TrustedFile>();
    const linked = new Set<string>();
    // 1. the tree: directories, and each file identical to one the directory already has is
    //    hard-linked (the old tree keeps its link); the others are created by their first write
    await eachSliced(dirsByDepth(manifest, 'parents first'), (entry) => {
      mkdirSync(resolveInside(staging, entry.path));
    });
    await eachSliced(fileEntries(manifest), (entry) => {
      const local = trusted.get(entry.path);
      if (local && identical(local, state!.manifest, entry, manifest)) {
        if (tryLink(local.abs, resolveInside(staging, entry.path))) linked.add(entry.path);
      }
    });

    // 2. where each needed chunk goes; which local files hold which: the trees stopped pulls
    //    left first (their files are cut short as they are read), then the current directory;
    //    with a chunk cache, the host's other checkpoint directories, and last the cache itself
    //    (a read per chunk)
    const targets = new ChunkPlaces(manifest, (file) => !linked.has(file.path));
    const wanted = (hash: string) => {
      const index = manifest.chunks.indexOf(hash);
      return index !== undefined && targets.has(index) ? index : undefined;
    };
    const planned = new Set<number>();
    const resumed = await ResumedChunks.plan(adopted, wanted, planned);
    const runs = [
      ...resumed.runs,
      ...(trusted.size > 0 ? planLocalCopies(trusted.values(), state!.manifest, wanted, planned) : []),
    ];
    const shared = ctx.cache ? await otherDirectoryRuns(ctx.stateDir, root, wanted, planned) : [];
    const cached = ctx.cache ? await planCachedChunks(ctx.cache, manifest, targets.indices(), planned) : [];
    await assertSpace(parent, bytesToWrite(manifest, linked) - resumed.freed);

    // 3. the writer (`TreeWriter`: a file is finished once its last chunk is written, files
    //    without data right away)
    const progress = new Progress(
      'download',
      { bytes: totals.bytes, files: totals.files },
      options.onProgress,
    );
    progress.add(totals.zeroBytes, linked.size);
    const tree = new TreeWriter(staging, targets, () => ctx.workers(), progress);
    writer = tree;
    await tree.begin(fileEntries(manifest).filter((entry) => !linked.has(entry.path)));
    const hash: FileWorkers['hash'] = (buffer, extents) => ctx.workers().hash(buffer, extents);

    // 4. local chunks are copied (each checked against its hash) while the rest is downloaded; a
    //    local chunk that fails its check is downloaded afterwards
    const local = new Set(planned);
    let bytesTransferred = 0;
    const describe = (index: number) => targets.paths(index).slice(0, 3).join(', ');
    const download = (indices: number[]) =>
      fetchChunks(ctx, manifest, indices, {
        signal,
        deliver: filler
          ? async (chunks) => {
              for (const { index, data } of chunks)
                await filler.offer(manifest.chunks.hashOf(index), data.length, (t) => void t.set(data));
              await tree.write(chunks);
            }
          : tree.write,
        describe,
        held: resumed.indices,
        onBytes: (n) => {
          bytesTransferred += n;
        },
      });
    let copied = new Set<number>();
    let fromOthers = new Set<number>();
    let fromCache = new Set<number>();
    const copyLocal = async () => {
      copied = await copyLocalChunks(runs, manifest, {
        hash,
        deliver: tree.write,
        copied: resumed.copied,
        signal,
      });
      // what the adopted trees held is in this pull's tree now
      await removeTrees(ctx.stateDir, root, adopted);
      fromOthers = await copyLocalChunks(shared, manifest, {
        hash,
        deliver: tree.write,
        skipUnreadable: true,
        signal,
      });
      if (ctx.cache)
        fromCache = await copyCachedChunks(ctx.cache, manifest, cached, {
          hash,
          deliver: tree.write,
          signal,
        });
      copied = new Set([...copied, ...fromOthers, ...fromCache]);
    };
    await settleAll([copyLocal(), download([...targets.indices()].filter((index) => !local.has(index)))]);
    // 5. local chunks whose bytes did not match
    await download([...local].filter((index) => !copied.has(index)));
    const chunksReused = copied.size;
    const chunksNew = targets.size - copied.size;
    const chunksResumed = [...copied].filter((index) => resumed.indices.has(index)).length;

    // 6. symlinks, directories' modes and times; then swap the new tree in
    tree.assertComplete();
    await tree.close();
    await finishTree(staging, manifest);
    progress.done();
    throwIfAborted(signal, 'pull', root);
    const { stamps } = tree;
    const stampLinked = (at: string) =>
      eachSliced(linked, (file) => {
        stamps[file] = stampOf(lstatSync(resolveInside(at, file), { bigint: true }));
      });
    const writeRecord = (which: 'current' | 'pending') =>
      writeLocalState(
        ctx.stateDir,
        root,
        { store: store.name, model, generation: generation!, durable: false, stamps, manifest },
        encoded,
        which,
      );
    // the new tree's record is pending during the swap: whichever tree a kill leaves at `root`,
    // a record says ckpt wrote it, and the next pull may replace it
    await stampLinked(staging);
    await writeRecord('pending').catch(() => undefined); // an unwritable state directory costs only that
    await swapIn(staging, root, !!existing);
    await removeRecord(ctx.stateDir, root, own);
    // a hard link's status changed when the old tree's name went away
    await stampLinked(root);
    await writeRecord('current')
      .then(() => rm(statePath(ctx.stateDir, root, 'pending'), { force: true }))
      .catch(() => undefined);
    return result({
      bytesTransferred,
      chunksNew,
      chunksReused,
      chunksResumed,
      chunksShared: fromOthers.size,
      chunksCached: fromCache.size,
    });
  } catch (err) {
    await writer?.close();
    // a pull that was stopped leaves its tree (and what it did not read of the trees it adopted)
    // for the next one; any other failure leaves nothing
    if (!keptForResume(err)) await removeTrees(ctx.stateDir, root, [own, ...adopted]);
    await rm(statePath(ctx.stateDir, root, 'pending'), { force: true });
    if (errnoOf(err) === 'ENOSPC' || errnoOf((err as Error | null)?.cause) === 'ENOSPC') {
      throw new StoreError(
        'Unavailable',
        `no space left on the device (the pull needs ${mib(totals.bytes - totals.zeroBytes)})`,
        {
          operation: 'pull',
          key: parent,
          retryable: false,
          cause: err,
        },
      );
    }
    throw err;
  } finally {
    releaseTrees([own, ...adopted]);
    await filler?.finish();
  }
}

/** Bytes a pull writes: the data of every file it does not hard-link (zero runs are holes). */
function bytesToWrite(manifest: Manifest, linked: Set<string>): number {
  let total = 0;
  for (const entry of fileEntries(manifest)) {
    if (linked.has(entry.path)) continue;
    for (const extent of entry.extents) if (extent >= 0) total += manifest.chunks.lengthOf(extent);
  }
  return total;
}

/** Fails before anything is written when the filesystem of `dir` has less room than `needed` bytes. */
async function assertSpace(dir: string, needed: number): Promise<void> {
  const fs = await statfs(dir).catch(() => undefined);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (needed > free) {
    throw new StoreError(
      'Unavailable',
      `not enough space: the pull needs ${mib(needed)}, ${mib(free)} are free`,
      {
        operation: 'pull',
        key: dir,
        retryable: false,
      },
    );
  }
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

/** True when `root` holds exactly the manifest's entries and every file's stamp is unchanged. */
async function matchesState(
  root: string,
  stamps: Record<string, FileStamp>,
  manifest: Manifest,
): Promise<boolean> {
  const current = await scanDirectory(root).catch(() => undefined);
  if (!current || current.length !== manifest.entries.length) return false;
  return current.every((e, i) => {
    const want = manifest.entries[i]!;
    if (want.path !== e.path || want.type !== e.type) return false;
    if (e.type === 'file') return sameStamp(stamps[e.path], e.stat);
    if (e.type === 'symlink') return want.type === 'symlink' && want.target === e.target;
    return true;
  });
}

/** Hard-links `from` at `to`; false when the filesystem cannot (the caller copies instead). */
function tryLink(from: string, to: string): boolean {
  try {
    linkSync(from, to);
    return true;
  } catch {
    return false;
  }
}

/** Creates symlinks, then sets directories' modes and times, deepest first. */
async function finishTree(staging: string, manifest: Manifest): Promise<void> {
  await eachSliced(manifest.entries, (entry) => {
    if (entry.type === 'symlink') symlinkSync(entry.target, resolveInside(staging, entry.path));
  });
  await eachSliced(dirsByDepth(manifest, 'deepest first'), (entry) => {
    const target = resolveInside(staging, entry.path);
    const time = fileTime(entry.mtimeMs);
    chmodSync(target, entry.mode);
    utimesSync(target, time, time);
  });
}

/**
 * The manifest's directories ordered by depth: creating one needs its parent, and a mode that
 * forbids entering a directory only stops changes below it, so those go first.
 */
function dirsByDepth(manifest: Manifest, order: 'parents first' | 'deepest first'): DirEntry[] {
  const depth = (entry: DirEntry) => entry.path.split('/').length;
  const dirs = manifest.entries.filter((e) => e.type === 'dir').sort((a, b) => depth(a) - depth(b));
  return order === 'parents first' ? dirs : dirs.reverse();
}

function fileEntries(manifest: Manifest): FileEntry[] {
  return manifest.entries.filter((e) => e.type === 'file');
}
