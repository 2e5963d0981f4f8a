import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import { lstat, mkdir, readdir, rename, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import { errnoOf } from '../errno.js';
import { StoreError, throwIfAborted } from '../errors.js';
import { ChunkPlaces } from './chunk-places.js';
import type { FileWorkers } from './chunking/index.js';
import { assertOwnTree, assertReplaceable, localDirectory } from './destination.js';
import type { EngineContext } from './engine-context.js';
import { fetchChunks } from './fetch-chunks.js';
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
import { resolveInside } from './rel-path.js';
import { settleAll } from './run-all.js';
import { scanDirectory } from './scan.js';
import { type FileStamp, sameStamp, stampOf } from './stamp.js';
import { listGenerations, readManifestBytes } from './stored-generations.js';
import { swapIn } from './swap.js';
import { eachSliced } from './sync-fs-batches.js';
import { TreeWriter } from './tree-writer.js';
import type { PullOptions, PullResult } from './types.js';

/**
 * Pulls a generation of `model` into `dir` so that it holds exactly the pushed files, or fails
 * and leaves `dir` as it was. Data is written into a hidden sibling directory
 * (`.<name>.ckpt-pull-*`): chunks the old content of `dir` already holds are copied from it, the
 * rest is downloaded, every chunk is checked against its SHA-256, zero runs become holes. Only
 * when all of it is in place is the sibling swapped in for `dir`.
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
  // what a killed pull left: its old tree put back, its staging tree removed, even when this pull has nothing to do
  await restoreInterruptedSwap(root);
  await removeLeftovers(root);
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
    return result({ upToDate: true });
  }
  if (options.dryRun) return result({ plan: await planPull(existing ? root : undefined, state, manifest) });

  // every downloaded or copied chunk is hashed on the file workers: start them while the tree is built
  if (manifest.chunks.count > 0) ctx.workers().warm();
  const parent = path.dirname(root);
  await mkdir(parent, { recursive: true });
  const staging = path.join(
    parent,
    `.${path.basename(root)}.ckpt-pull-${process.pid}-${randomBytes(6).toString('hex')}`,
  );
  await mkdir(staging);
  let writer: TreeWriter | undefined; // its handles are closed on failure too
  try {
    // files of the current directory that still hold what the local record says
    const trusted = state?.model === model ? await trustedFiles(root, state) : new Map<string, TrustedFile>();
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

    await assertSpace(parent, bytesToWrite(manifest, linked));

    // 2. where each needed chunk goes, and the writer that puts it there (`TreeWriter`: a file
    //    is finished once its last chunk is written, files without data right away)
    const targets = new ChunkPlaces(manifest, (file) => !linked.has(file.path));
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

    // 3. chunks the old directory holds are copied from it (each checked against its hash) while
    //    the rest is downloaded; a local chunk that fails its check is downloaded afterwards
    const wanted = (hash: string) => {
      const index = manifest.chunks.indexOf(hash);
      return index !== undefined && targets.has(index) ? index : undefined;
    };
    const runs = trusted.size > 0 ? planLocalCopies(trusted, state!.manifest, wanted) : [];
    const local = new Set(runs.flatMap((run) => run.chunks.map((c) => c.index)));
    let bytesTransferred = 0;
    const describe = (index: number) => targets.paths(index).slice(0, 3).join(', ');
    const download = (indices: number[]) =>
      fetchChunks(ctx, manifest, indices, {
        signal,
        deliver: tree.write,
        describe,
        onBytes: (n) => {
          bytesTransferred += n;
        },
      });
    let copied = new Set<number>();
    await settleAll([
      copyLocalChunks(runs, manifest, { hash, deliver: tree.write, signal }).then((done) => {
        copied = done;
      }),
      download([...targets.indices()].filter((index) => !local.has(index))),
    ]);
    // 4. local chunks whose bytes did not match
    await download([...local].filter((index) => !copied.has(index)));
    const chunksReused = copied.size;
    const chunksNew = targets.size - copied.size;

    // 5. symlinks, directories' modes and times; then swap the new tree in
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
        manifest.format === MANIFEST_FORMAT ? stored : undefined,
        which,
      );
    // the new tree's record is pending during the swap: whichever tree a kill leaves at `root`,
    // a record says ckpt wrote it, and the next pull may replace it
    await stampLinked(staging);
    await writeRecord('pending').catch(() => undefined); // an unwritable state directory costs only that
    await swapIn(staging, root, !!existing);
    // a hard link's status changed when the old tree's name went away
    await stampLinked(root);
    await writeRecord('current')
      .then(() => rm(statePath(ctx.stateDir, root, 'pending'), { force: true }))
      .catch(() => undefined);
    return result({ bytesTransferred, chunksNew, chunksReused });
  } catch (err) {
    await writer?.close();
    await rm(staging, { recursive: true, force: true });
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
    const time = new Date(entry.mtimeMs);
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

/**
 * Puts back the old tree of a swap a crash interrupted between its two renames (the destination
 * is missing and exactly one `.<name>.ckpt-old-*` sibling holds it).
 */
async function restoreInterruptedSwap(root: string): Promise<void> {
  if (await lstat(root).catch(() => undefined)) return;
  const olds = (await siblings(root)).filter((s) => /^old-[0-9a-f]{12}$/.test(s.rest));
  if (olds.length === 1) await rename(olds[0]!.full, root).catch(() => undefined);
}

/**
 * Removes what crashed pulls left beside `root`: old trees of finished swaps, and staging trees
 * of pulls whose process is gone (or, without a process id, older than an hour).
 */
async function removeLeftovers(root: string): Promise<void> {
  for (const { rest, full } of await siblings(root)) {
    const pid = /^pull-(\d+)-[0-9a-f]{12}$/.exec(rest)?.[1];
    let stale = /^old-[0-9a-f]{12}$/.test(rest) || (pid !== undefined && !processAlive(Number(pid)));
    if (/^pull-[0-9a-f]{12}$/.test(rest)) {
      const st = await lstat(full).catch(() => undefined);
      stale = !!st && Date.now() - st.mtimeMs > 3600_000;
    }
    if (stale) await rm(full, { recursive: true, force: true });
  }
}

/** The `.<name>.ckpt-*` siblings of `root`: the rest of each name after that prefix, and its path. */
async function siblings(root: string): Promise<{ rest: string; full: string }[]> {
  const parent = path.dirname(root);
  const prefix = `.${path.basename(root)}.ckpt-`;
  const names = await readdir(parent).catch(() => [] as string[]);
  return names
    .filter((name) => name.startsWith(prefix))
    .map((name) => ({ rest: name.slice(prefix.length), full: path.join(parent, name) }));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function fileEntries(manifest: Manifest): FileEntry[] {
  return manifest.entries.filter((e) => e.type === 'file');
}
