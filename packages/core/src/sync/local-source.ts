import { type BigIntStats, constants, lstatSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { throwIfAborted } from '../errors.js';
import type { FileWorkers } from './chunking/index.js';
import type { LocalState } from './local-state.js';
import type { FileEntry, Manifest } from './manifest.js';
import { resolveInside } from './rel-path.js';
import { eachLimited } from './run-all.js';
import { sameStamp, stampOf } from './stamp.js';
import { eachSliced } from './sync-fs-batches.js';

/** A local file known to hold a recorded entry's bytes, or (a staging tree's) a prefix of them. */
export interface TrustedFile {
  abs: string;
  entry: FileEntry;
  /** Its length now: chunks that end past it are not read. */
  size: number;
  /** Its number of links (a staging tree's file may be a link to one of the current directory). */
  links: number;
}

/** Local files are read without following a link at their name or waiting on a FIFO. */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Bytes read from local files at once when copying chunks. */
const RUN_BYTES = 4 * 1024 * 1024;

/** The files of `root` whose stamps still match the local record, by relative path. */
export function trustedFiles(root: string, state: LocalState): Promise<Map<string, TrustedFile>> {
  return regularFiles(root, state.manifest, (entry, st) => sameStamp(stampOf(st), state.stamps[entry.path]));
}

/**
 * The file entries of `manifest` that are regular files under `root` (never reached through a
 * symlink at their own name) and that `accept` takes, by relative path.
 */
export async function regularFiles(
  root: string,
  manifest: Manifest,
  accept: (entry: FileEntry, st: BigIntStats) => boolean = () => true,
): Promise<Map<string, TrustedFile>> {
  const out = new Map<string, TrustedFile>();
  const files = manifest.entries.filter((e) => e.type === 'file');
  await eachSliced(files, (entry) => {
    let abs: string;
    let st: BigIntStats | undefined;
    try {
      abs = resolveInside(root, entry.path);
      st = lstatSync(abs, { bigint: true, throwIfNoEntry: false });
    } catch {
      return;
    }
    if (st?.isFile() && accept(entry, st))
      out.set(entry.path, { abs, entry, size: Number(st.size), links: Number(st.nlink) });
  });
  return out;
}

/** The chunk hashes (and zero runs) of a file entry, independent of chunk table order. */
function contentOf(entry: FileEntry, manifest: Manifest): string {
  return entry.extents.map((x) => (x < 0 ? x : manifest.chunks.hashOf(x))).join(',');
}

/** True when `local` holds exactly `wanted`: same bytes, mode and time (so it can be hard-linked). */
export function identical(
  local: TrustedFile,
  recorded: Manifest,
  wanted: FileEntry,
  manifest: Manifest,
): boolean {
  const a = local.entry;
  return (
    a.size === wanted.size &&
    a.mode === wanted.mode &&
    a.mtimeMs === wanted.mtimeMs &&
    contentOf(a, recorded) === contentOf(wanted, manifest)
  );
}

/** A local chunk to copy: where it is in its file, and its index in the manifest being pulled. */
interface LocalChunk {
  offset: number;
  length: number;
  index: number;
}

/** Adjacent chunks of one local file, read at once (up to {@link RUN_BYTES}). */
export interface LocalRun {
  abs: string;
  chunks: LocalChunk[];
}

/** Reads of local chunks in flight (each with its buffer of up to {@link RUN_BYTES}). */
const READS_IN_FLIGHT = 4;

/**
 * Plans where to read the chunks of `manifest` that trusted local files hold (`wanted`: the index
 * of a chunk still needed, by hash; `recorded`: the manifest the files were written from): each
 * chunk once (`planned`: the chunks other plans read already, to which this one adds its own), in
 * runs of adjacent chunks of up to 4 MiB.
 */
export function planLocalCopies(
  files: Iterable<TrustedFile>,
  recorded: Manifest,
  wanted: (hash: string) => number | undefined,
  planned = new Set<number>(),
): LocalRun[] {
  const runs: LocalRun[] = [];
  for (const file of files) {
    let offset = 0;
    let run: LocalChunk[] = [];
    const close = () => {
      if (run.length > 0) runs.push({ abs: file.abs, chunks: run });
      run = [];
    };
    for (const x of file.entry.extents) {
      if (x < 0) {
        offset -= x;
        close();
        continue;
      }
      const length = recorded.chunks.lengthOf(x);
      if (offset + length > file.size) break;
      const index = wanted(recorded.chunks.hashOf(x));
      if (index === undefined || planned.has(index)) close();
      else {
        planned.add(index);
        if (run.length > 0 && offset + length - run[0]!.offset > RUN_BYTES) close();
        run.push({ offset, length, index });
      }
      offset += length;
    }
    close();
  }
  return runs;
}

/**
 * Copies the chunks of `runs` (see {@link planLocalCopies}): one read per run,
 * {@link READS_IN_FLIGHT} reads at a time whatever the number of files, every chunk's SHA-256
 * checked on a worker (with `hash`) against `manifest`, the matching ones of each read handed to
 * `deliver` (their bytes are only valid until it resolves). Returns the indexes delivered; a
 * chunk whose local bytes do not match is simply left to be downloaded.
 */
export async function copyLocalChunks(
  runs: LocalRun[],
  manifest: Manifest,
  options: {
    hash: FileWorkers['hash'];
    deliver: (chunks: { index: number; data: Buffer }[]) => Promise<void>;
    /** Called once a run's good chunks are delivered (the others are left to be downloaded). */
    copied?: (run: LocalRun) => Promise<void>;
    /**
     * A file that cannot be opened or read (another directory, removed meanwhile) leaves its
     * chunks to be downloaded; without it, such a failure stops the copy.
     */
    skipUnreadable?: boolean;
    signal?: AbortSignal;
  },
): Promise<Set<number>> {
  const { hash, deliver, signal } = options;
  const done = new Set<number>();
  // a file stays open from its first run to its last (runs are queued in file order)
  const handles = new Map<string, Promise<FileHandle>>();
  const left = new Map<string, number>();
  for (const { abs } of runs) left.set(abs, (left.get(abs) ?? 0) + 1);
  const finished = async (abs: string) => {
    const remaining = left.get(abs)! - 1;
    left.set(abs, remaining);
    if (remaining > 0) return;
    const handle = handles.get(abs);
    handles.delete(abs);
    await (await handle?.catch(() => undefined))?.close();
  };
  const arenas: SharedArrayBuffer[] = []; // reused from read to read; workers hash (and write) in place
  try {
    // every read settles before the handles close
    await eachLimited(runs, READS_IN_FLIGHT, async (run) => {
      const { abs, chunks } = run;
      throwIfAborted(signal, 'pull', abs);
      // never through a link, never waiting on a FIFO that took a file's place
      const opened = handles.get(abs) ?? open(abs, READ_FLAGS);
      handles.set(abs, opened);
      const start = chunks[0]!.offset;
      const length = chunks.at(-1)!.offset + chunks.at(-1)!.length - start;
      let arena = arenas.pop() ?? new SharedArrayBuffer(RUN_BYTES);
      if (arena.byteLength < length) arena = new SharedArrayBuffer(length);
      let bytesRead: number;
      try {
        ({ bytesRead } = await (await opened).read(new Uint8Array(arena, 0, length), 0, length, start));
      } catch (err) {
        if (!options.skipUnreadable) throw err;
        arenas.push(arena);
        await finished(abs);
        return;
      }
      const whole = chunks.filter((c) => c.offset - start + c.length <= bytesRead);
      const hashed = await hash(
        arena,
        whole.map((c) => ({ offset: c.offset - start, length: c.length })),
      );
      const good = whole
        .filter((c, k) => hashed.hashes[k] === manifest.chunks.hashOf(c.index))
        .map((c) => ({ index: c.index, data: Buffer.from(hashed.buffer, c.offset - start, c.length) }));
      await deliver(good);
      for (const chunk of good) done.add(chunk.index);
      arenas.push(hashed.buffer);
      await options.copied?.(run);
      await finished(abs);
    });
  } finally {
    await Promise.allSettled([...handles.values()].map(async (h) => (await h).close()));
  }
  return done;
}
