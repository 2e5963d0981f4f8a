import pLimit from 'p-limit';
import type { ChunkPlaces } from './chunk-places.js';
import type { FileWorkers } from './chunking/index.js';
import type { VerifiedChunk } from './fetch-chunks.js';
import { FileHandles, type Finish } from './file-handles.js';
import type { FileEntry } from './manifest.js';
import type { Progress } from './progress.js';
import { resolveInside } from './rel-path.js';
import { eachLimited, settleAll } from './run-all.js';
import { type FileStamp, stampOf } from './stamp.js';

/** Files without data are finished (each on its own handle) this many at a time. */
const FS_CALLS = 16;

/** Writes of one file from one buffer: `data` goes to `offset`; it holds `chunks` chunk places. */
interface Run {
  file: FileEntry;
  offset: number;
  data: Buffer;
  chunks: number;
}

/**
 * Writes a pull's verified chunks into the files of its staging tree (directories made already).
 * Each file is created by its first write and finished once its last chunk is in: its length set
 * when it ends in a hole, then its mode and times; `stamps` keeps each one's status for the local
 * record. Batches are written as they come ({@link write}): files a batch holds whole (the small
 * ones) are created, written and finished on a worker in one task, one such task at a time; the
 * others are written from here, one write at a time, through cached handles.
 */
export class TreeWriter {
  /** The status of every file finished, by path. */
  readonly stamps: Record<string, FileStamp> = {};
  /** Chunk places still to write, by file path. */
  readonly #unwritten = new Map<string, number>();
  readonly #handles = new FileHandles();
  /**
   * Whole-file tasks, one at a time: two threads creating files in one directory in tight loops
   * spin on its lock (10,000 files into a directory just deleted: up to 11 s of system time
   * instead of 1–2).
   */
  readonly #oneWriter = pLimit(1);
  readonly #staging: string;
  readonly #targets: ChunkPlaces;
  readonly #workers: () => FileWorkers;
  readonly #progress: Progress;

  constructor(staging: string, targets: ChunkPlaces, workers: () => FileWorkers, progress: Progress) {
    this.#staging = staging;
    this.#targets = targets;
    this.#workers = workers;
    this.#progress = progress;
  }

  /** Takes the files to write; those without data are finished at once. */
  async begin(files: Iterable<FileEntry>): Promise<void> {
    await eachLimited(files, FS_CALLS, async (entry) => {
      const chunks = entry.extents.filter((x) => x >= 0).length;
      if (chunks > 0) this.#unwritten.set(entry.path, chunks);
      else await this.#finish(entry);
    });
  }

  /**
   * Writes a batch of chunks (views of one buffer, valid until this resolves): those that land
   * next to each other in one file go in one write. Resolves once they are written and the files
   * they complete are finished.
   */
  readonly write = async (chunks: VerifiedChunk[]): Promise<void> => {
    const whole: { file: FileEntry; runs: Run[] }[] = [];
    const rest: Run[] = [];
    const buffer = chunks[0]?.data.buffer;
    for (const [file, runs] of runsByFile(chunks, this.#targets)) {
      // no chunk is delivered twice: a batch holding all that is left of a file holds all of it
      const all = runs.reduce((sum, r) => sum + r.chunks, 0) === this.#unwritten.get(file.path);
      if (all && buffer instanceof SharedArrayBuffer && runs.every((r) => r.data.buffer === buffer)) {
        whole.push({ file, runs });
      } else rest.push(...runs);
    }
    const finishing: Promise<void>[] = [];
    const writes = [
      rest.length > 0 ? this.#writeRuns(rest, finishing) : Promise.resolve(),
      whole.length > 0 ? this.#writeWhole(whole, buffer as SharedArrayBuffer) : Promise.resolve(),
    ];
    await Promise.allSettled(writes);
    await settleAll([...writes, ...finishing]);
  };

  /** Throws when a file still lacks chunks (a bug: every chunk a file needs was delivered). */
  assertComplete(): void {
    const incomplete = [...this.#unwritten].find(([, left]) => left > 0);
    if (incomplete)
      throw new Error(`internal error: ${incomplete[0]} is missing ${incomplete[1]} chunk writes`);
  }

  /** Closes the handles still open (also after a failure). */
  close(): Promise<void> {
    return this.#handles.closeAll();
  }

  /** Writes runs here, one at a time; a file's last write starts its finish (added to `finishing`). */
  async #writeRuns(runs: Run[], finishing: Promise<void>[]): Promise<void> {
    for (const run of runs) {
      const { file, offset, data } = run;
      await this.#handles.write(resolveInside(this.#staging, file.path), data, offset);
      this.#progress.add(data.length);
      const left = this.#unwritten.get(file.path)! - run.chunks;
      this.#unwritten.set(file.path, left);
      if (left === 0) {
        const finished = this.#finish(file);
        finished.catch(() => undefined); // handled: reported once every write has settled
        finishing.push(finished);
      }
    }
  }

  /** Creates, writes and finishes files whose every chunk is in `buffer`, on a worker. */
  async #writeWhole(files: { file: FileEntry; runs: Run[] }[], buffer: SharedArrayBuffer): Promise<void> {
    const newFiles = files.map(({ file, runs }) => ({
      path: resolveInside(this.#staging, file.path),
      writes: runs.map((r) => ({ offset: r.offset, at: r.data.byteOffset, length: r.data.length })),
      ...finishOf(file),
    }));
    const stamped = await this.#oneWriter(() => this.#workers().writeFiles(buffer, newFiles));
    for (const [i, { file, runs }] of files.entries()) {
      this.stamps[file.path] = stamped[i]!;
      this.#unwritten.set(file.path, 0);
      this.#progress.add(
        runs.reduce((sum, r) => sum + r.data.length, 0),
        1,
      );
    }
  }

  /** Sets a file's length (when it ends in a hole), mode and times on its handle, and closes it. */
  async #finish(entry: FileEntry): Promise<void> {
    const file = resolveInside(this.#staging, entry.path);
    this.stamps[entry.path] = stampOf(await this.#handles.finish(file, finishOf(entry)));
    this.#progress.add(0, 1);
  }
}

/**
 * The places of `chunks` by file, each file's in offset order, neighbours in one file that are
 * also neighbours in one buffer merged into one run.
 */
function runsByFile(chunks: VerifiedChunk[], targets: ChunkPlaces): Map<FileEntry, Run[]> {
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

/** What `entry` becomes once written: its mode and times, and its length when it ends in a zero run. */
function finishOf(entry: FileEntry): Finish {
  const endsInHole = entry.size > 0 && (entry.extents.at(-1) ?? -1) < 0;
  return { mode: entry.mode, mtimeMs: entry.mtimeMs, size: endsInHole ? entry.size : undefined };
}
