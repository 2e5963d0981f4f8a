import { randomBytes } from 'node:crypto';
import { chmodSync, linkSync, lstatSync, mkdirSync, symlinkSync, utimesSync } from 'node:fs';
import { lstat, mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { StoreError, throwIfAborted } from '../errors.js';
import { listGenerations, readManifest } from './catalog.js';
import { ChunkTargets } from './chunk-targets.js';
import type { ChunkerPool } from './chunking/index.js';
import type { EngineContext } from './context.js';
import { fetchChunks, type VerifiedChunk } from './fetch-chunks.js';
import { FileHandles } from './file-handles.js';
import { legacyExists, pullLegacy } from './legacy.js';
import {
  copyLocalChunks,
  identical,
  planLocalCopies,
  type TrustedFile,
  trustedFiles,
} from './local-source.js';
import { readLocalState, writeLocalState } from './local-state.js';
import { type DirEntry, type FileEntry, type Manifest, manifestTotals } from './manifest.js';
import { validateGeneration, validateModel } from './names.js';
import { Progress } from './progress.js';
import { resolveInside } from './rel-path.js';
import { scanDirectory } from './scan.js';
import { eachLimited, settleAll } from './settle.js';
import { eachSliced } from './sliced.js';
import { type FileStamp, sameStamp, stampOf } from './stamp.js';
import { swapIn } from './swap.js';
import type { PullOptions, PullResult } from './types.js';

/** Files without data are finished (each on its own handle) this many at a time. */
const FS_CALLS = 16;

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
  const root = path.resolve(dir);
  const existing = await lstat(root).catch(() => undefined);
  if (existing && !existing.isDirectory()) {
    throw new StoreError('InvalidArgument', 'the destination exists and is not a directory', {
      operation: 'pull',
      key: root,
    });
  }
  let generation = options.generation === undefined ? undefined : validateGeneration(options.generation);
  if (generation === undefined) {
    generation = (await listGenerations(store, model, signal)).at(-1);
    if (generation === undefined) {
      if (await legacyExists(store, model, signal)) return pullLegacy(ctx, model, root, options, started);
      throw new StoreError('NotFound', 'no checkpoint of this model in the store', {
        operation: 'pull',
        key: model,
      });
    }
  }
  const manifest = await readManifest(store, model, generation, signal);
  const totals = manifestTotals(manifest);
  const state = existing ? await readLocalState(root, store.name) : undefined;
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
    (await matchesState(root, state.stamps, manifest))
  ) {
    return result({ upToDate: true });
  }

  // every downloaded or copied chunk is hashed on the chunker's threads: start them while the tree is built
  if (manifest.chunks.count > 0) ctx.chunker().warm();
  const parent = path.dirname(root);
  await mkdir(parent, { recursive: true });
  await removeLeftovers(root);
  const staging = path.join(parent, `.${path.basename(root)}.ckpt-pull-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  const handles = new FileHandles();
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

    // 2. where each needed chunk goes; a file is finished (length, mode, times) once its last
    //    chunk is written, files without data right away
    const targets = new ChunkTargets(manifest, (file) => !linked.has(file.path));
    const progress = new Progress(
      'download',
      { bytes: totals.bytes, files: totals.files },
      options.onProgress,
    );
    progress.add(totals.zeroBytes, linked.size);
    const stamps: Record<string, FileStamp> = {};
    const unwritten = new Map<string, number>();
    const finish = async (entry: FileEntry) => {
      const how = {
        mode: entry.mode,
        mtimeMs: entry.mtimeMs,
        size: endsInHole(entry) ? entry.size : undefined,
      };
      stamps[entry.path] = stampOf(await handles.finish(resolveInside(staging, entry.path), how));
      progress.add(0, 1);
    };
    await eachLimited(fileEntries(manifest), FS_CALLS, async (entry) => {
      if (linked.has(entry.path)) return;
      const chunks = entry.extents.filter((x) => x >= 0).length;
      if (chunks > 0) unwritten.set(entry.path, chunks);
      else await finish(entry);
    });
    /** Writes runs here, one at a time; a file's last write starts its finish (added to `finishing`). */
    const writeRuns = async (runs: Run[], finishing: Promise<void>[]) => {
      for (const run of runs) {
        const { file, offset, data } = run;
        await handles.write(resolveInside(staging, file.path), data, offset);
        progress.add(data.length);
        const left = unwritten.get(file.path)! - run.chunks;
        unwritten.set(file.path, left);
        if (left === 0) {
          const finished = finish(file);
          finished.catch(() => undefined); // handled: reported once every write has settled
          finishing.push(finished);
        }
      }
    };
    /**
     * Creates files whose every chunk is in one shared buffer on a worker, finished there too; one
     * such task at a time: two threads creating files in one directory in tight loops spin on its
     * lock (10,000 files into a directory just deleted: up to 11 s of system time instead of 1–2).
     */
    const oneWriter = pLimit(1);
    const writeWhole = async (files: { file: FileEntry; runs: Run[] }[], buffer: SharedArrayBuffer) => {
      const newFiles = files.map(({ file, runs }) => ({
        path: resolveInside(staging, file.path),
        writes: runs.map((r) => ({ offset: r.offset, at: r.data.byteOffset, length: r.data.length })),
        size: endsInHole(file) ? file.size : undefined,
        mode: file.mode,
        mtimeMs: file.mtimeMs,
      }));
      const stamped = await oneWriter(() => ctx.chunker().writeFiles(buffer, newFiles));
      for (const [i, { file, runs }] of files.entries()) {
        stamps[file.path] = stamped[i]!;
        unwritten.set(file.path, 0);
        progress.add(
          runs.reduce((sum, r) => sum + r.data.length, 0),
          1,
        );
      }
    };
    /**
     * Writes a batch of chunks: those that land next to each other in one file go in one write.
     * Files the batch holds whole (every chunk, in one shared buffer: the small ones) are created
     * on a worker, many system calls per round trip; the others are written here one write at a
     * time (creating files in one directory from several threads contends for its lock), and
     * finished on their handles, once complete, meanwhile.
     */
    const writeMany = async (chunks: VerifiedChunk[]) => {
      const whole: { file: FileEntry; runs: Run[] }[] = [];
      const rest: Run[] = [];
      const buffer = chunks[0]?.data.buffer;
      for (const [file, runs] of runsByFile(chunks, targets)) {
        // no chunk is delivered twice: a batch holding all that is left of a file holds all of it
        const all = runs.reduce((sum, r) => sum + r.chunks, 0) === unwritten.get(file.path);
        if (all && buffer instanceof SharedArrayBuffer && runs.every((r) => r.data.buffer === buffer)) {
          whole.push({ file, runs });
        } else rest.push(...runs);
      }
      const finishing: Promise<void>[] = [];
      const writes = [
        rest.length > 0 ? writeRuns(rest, finishing) : Promise.resolve(),
        whole.length > 0 ? writeWhole(whole, buffer as SharedArrayBuffer) : Promise.resolve(),
      ];
      await Promise.allSettled(writes);
      await settleAll([...writes, ...finishing]);
    };
    const hash: ChunkerPool['hash'] = (buffer, extents) => ctx.chunker().hash(buffer, extents);

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
        deliver: writeMany,
        describe,
        onBytes: (n) => {
          bytesTransferred += n;
        },
      });
    let copied = new Set<number>();
    await settleAll([
      copyLocalChunks(runs, manifest, { hash, deliver: writeMany, signal }).then((done) => {
        copied = done;
      }),
      download([...targets.indices()].filter((index) => !local.has(index))),
    ]);
    // 4. local chunks whose bytes did not match
    await download([...local].filter((index) => !copied.has(index)));
    const chunksReused = copied.size;
    const chunksNew = targets.size - copied.size;

    // 5. symlinks, directories' modes and times; then swap the new tree in
    const incomplete = [...unwritten].find(([, left]) => left > 0);
    if (incomplete)
      throw new Error(`internal error: ${incomplete[0]} is missing ${incomplete[1]} chunk writes`);
    await handles.closeAll();
    await finishTree(staging, manifest);
    progress.done();
    throwIfAborted(signal, 'pull', root);
    await swapIn(staging, root, !!existing);
    // a hard link's status changed when the old tree's name went away
    await eachSliced(linked, (file) => {
      stamps[file] = stampOf(lstatSync(resolveInside(root, file), { bigint: true }));
    });
    await writeLocalState(root, {
      store: store.name,
      model,
      generation,
      durable: false,
      stamps,
      manifest,
    }).catch(() => undefined);
    return result({ bytesTransferred, chunksNew, chunksReused });
  } catch (err) {
    await handles.closeAll();
    await rm(staging, { recursive: true, force: true });
    throw err;
  }
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

/** Removes `.<name>.ckpt-old-*` trees and pull staging trees older than an hour left by crashes. */
async function removeLeftovers(root: string): Promise<void> {
  const parent = path.dirname(root);
  const prefix = `.${path.basename(root)}.ckpt-`;
  for (const name of await readdir(parent).catch(() => [] as string[])) {
    if (!name.startsWith(prefix)) continue;
    const rest = name.slice(prefix.length);
    const full = path.join(parent, name);
    if (/^old-[0-9a-f]{12}$/.test(rest)) await rm(full, { recursive: true, force: true });
    else if (/^pull-[0-9a-f]{12}$/.test(rest)) {
      const st = await lstat(full).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 3600_000) await rm(full, { recursive: true, force: true });
    }
  }
}

/** Writes of one file from one buffer: `data` goes to `offset`; it holds `chunks` chunk places. */
interface Run {
  file: FileEntry;
  offset: number;
  data: Buffer;
  chunks: number;
}

/**
 * The places of `chunks` by file, each file's in offset order, neighbours in one file that are
 * also neighbours in one buffer merged into one run.
 */
function runsByFile(chunks: VerifiedChunk[], targets: ChunkTargets): Map<FileEntry, Run[]> {
  const writes = chunks.flatMap(({ index, data }) =>
    targets.places(index).map((p) => ({ file: p.file, offset: p.offset, data })),
  );
  writes.sort((a, b) => (a.file === b.file ? a.offset - b.offset : a.file.path < b.file.path ? -1 : 1));
  const byFile = new Map<FileEntry, Run[]>();
  for (const { file, offset, data } of writes) {
    const runs = byFile.get(file) ?? [];
    byFile.set(file, runs);
    const prev = runs.at(-1);
    const adjacent =
      prev !== undefined &&
      offset === prev.offset + prev.data.length &&
      data.buffer === prev.data.buffer &&
      data.byteOffset === prev.data.byteOffset + prev.data.length;
    if (adjacent) {
      prev.data = Buffer.from(data.buffer, prev.data.byteOffset, prev.data.length + data.length);
      prev.chunks++;
    } else runs.push({ file, offset, data, chunks: 1 });
  }
  return byFile;
}

/** True when a file's last extent is a zero run: its length has to be set. */
function endsInHole(entry: FileEntry): boolean {
  return entry.size > 0 && (entry.extents.at(-1) ?? -1) < 0;
}

function fileEntries(manifest: Manifest): FileEntry[] {
  return manifest.entries.filter((e) => e.type === 'file');
}
