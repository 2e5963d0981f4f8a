import { lstat } from 'node:fs/promises';
import pLimit from 'p-limit';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { listAllGenerations, listGenerations, readManifest } from './catalog.js';
import type { ChunkRows } from './chunk-rows.js';
import { ChunkTable, KnownChunks } from './chunk-table.js';
import type { EngineContext } from './context.js';
import { localDirectory } from './destination.js';
import { manifestKey, packKey } from './layout.js';
import { readLocalState, writeLocalState } from './local-state.js';
import { MANIFEST_FORMAT, type Manifest, type ManifestEntry, sealAndEncode } from './manifest.js';
import { newGenerationId, validateModel } from './names.js';
import { PackWriter } from './pack-writer.js';
import { Progress } from './progress.js';
import { type BaseGeneration, PushLease } from './push-lease.js';
import { type ScannedEntry, scanDirectory } from './scan.js';
import { settleAll } from './settle.js';
import { type FileStamp, sameStamp, stampOf } from './stamp.js';
import type { PushOptions, PushResult } from './types.js';

/** Files up to this size are one chunk each, read whole by the workers in batches. */
const SMALL_FILE = 256 * 1024;
/** A batch of small files read by one worker task: up to this many files or about this many bytes. */
const BATCH_FILES = 64;
const BATCH_BYTES = 1024 * 1024;
/** Batches of small files in flight at once. */
const BATCHES_AT_ONCE = 4;
/** Files of one chunking segment chunked at once (they share the read-ahead budget). */
const MEDIUM_AT_ONCE = 4;

/**
 * Pushes directory `dir` as a new generation of `model`:
 * 1. scan the directory (files, dirs, symlinks; special files refused);
 * 2. reuse the chunk lists of files unchanged since the last push or pull (local state), chunk
 *    and hash the rest (zero runs skipped), and upload chunks the latest generation lacks into packs;
 * 3. check that every reused pack still exists, then write the manifest: the commit point.
 * Nothing is visible to readers until step 3 succeeds; a failure leaves only unreferenced packs.
 * A directory that is exactly the latest generation (bytes, modes, times, labels) commits
 * nothing: the result names that generation.
 */
export async function push(
  ctx: EngineContext,
  model: string,
  dir: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const started = Date.now();
  const { store, signal } = { store: ctx.store, signal: options.signal };
  validateModel(model);
  const root = localDirectory(dir, 'push');
  throwIfAborted(signal, 'push', model);
  const state = await readLocalState(ctx.stateDir, root, store.name);
  const previous = state?.model === model ? state : undefined;
  // files new or changed since the last push or pull are read on the chunker's threads: start
  // them (tens of milliseconds) as soon as the scan finds the first such file
  const scanned = await scanDirectory(root, (e) => {
    if (e.type === 'file' && e.size > 0 && !sameStamp(previous?.stamps[e.path], e.stat)) ctx.chunker().warm();
  });
  const files = scanned.filter((e) => e.type === 'file');
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  new Progress('scan', { bytes, files: files.length }, options.onProgress).done();

  const startGenerations = await listGenerations(store, model, signal);
  const parent = startGenerations.at(-1) ?? null;
  if (options.expectLatest !== undefined && options.expectLatest !== parent) {
    throw conflict(
      model,
      `the latest generation is ${parent ?? 'none'}, not ${options.expectLatest ?? 'none'}`,
    );
  }
  // the lease names every generation this push may reuse before any of them is read (gc.ts)
  const bases: BaseGeneration[] = [
    ...(parent ? [{ model, generation: parent }] : []),
    ...(await dedupBases(store, model, options.dedupWith ?? [], signal)),
  ];
  const lease = await PushLease.take(store, model, bases, ctx.leaseRenewMs, signal);
  try {
    const manifests = await Promise.all(
      bases.map((b) => readManifest(store, b.model, b.generation, signal).catch(ignoreUnreadable)),
    );
    const base = parent ? manifests[0] : undefined;
    // chunks in packs that are gone (lost, or removed by hand) are uploaded again
    const known = new KnownChunks(manifests, await missingPacks(ctx, manifests, signal));
    const previousEntries = new Map(previous?.manifest.entries.map((e) => [e.path, e]));

    const table = new ChunkTable();
    const progress = new Progress('upload', { bytes, files: files.length }, options.onProgress);
    // half the budget for packs: the one filling plus those whose body an upload holds
    const maxInFlight = Math.max(
      1,
      Math.min(ctx.concurrency, Math.floor(ctx.memoryBudget / 2 / ctx.packSize) - 1),
    );
    const packs = new PackWriter(store, {
      packSize: ctx.packSize,
      maxInFlight,
      // uploads past their body (fsync and rename in a filesystem store) cost no memory
      maxUploads: Math.max(maxInFlight, Math.min(ctx.concurrency, 2 * maxInFlight)),
      signal,
    });
    let chunksNew = 0;
    let zeroBytes = 0;
    /** New chunks on their way into a pack: a second file with the same bytes waits for the first. */
    const adding = new Map<string, Promise<number>>();

    /** The chunk table index of chunk `hash`; new chunks get their bytes from `fill`. */
    const addChunk = (
      hash: string,
      length: number,
      fill: (target: Buffer) => void,
    ): Promise<number> | number => {
      const existing = table.indexOf(hash);
      if (existing !== undefined) return existing;
      const at = known.get(hash);
      if (at) return table.add(hash, at);
      let added = adding.get(hash);
      if (!added) {
        chunksNew++;
        added = packs
          .addWith(length, fill)
          .then(({ packId, offset }) => table.add(hash, { packId, offset, length }));
        adding.set(hash, added);
        const done = () => adding.delete(hash);
        added.then(done, done);
      }
      return added;
    };

    /** The extents of an unchanged file, when every chunk it needs is still known; else undefined. */
    const reuse = (file: ScannedEntry & { type: 'file' }): number[] | undefined => {
      if (!previous || !sameStamp(previous.stamps[file.path], file.stat)) return undefined;
      const old = previousEntries.get(file.path);
      if (old?.type !== 'file' || old.size !== file.size) return undefined;
      const hashes = old.extents.map((x) => (x < 0 ? x : previous.manifest.chunks.hashOf(x)));
      if (
        !hashes.every(
          (h) =>
            typeof h === 'number' || (h !== undefined && (known.has(h) || table.indexOf(h) !== undefined)),
        )
      ) {
        return undefined;
      }
      return hashes.map((h) => {
        if (typeof h === 'number') {
          zeroBytes -= h;
          return h;
        }
        return table.indexOf(h!) ?? table.add(h!, known.get(h!)!);
      });
    };

    const extentsByPath = new Map<string, number[]>();
    const stamps: Record<string, FileStamp> = {};
    const record = (file: ScannedEntry & { type: 'file' }, extents: number[]) => {
      extentsByPath.set(file.path, extents);
      stamps[file.path] = file.stat;
      progress.add(0, 1);
    };

    /** Read buffers of finished batches, reused by the next ones. */
    const batchBuffers: ArrayBuffer[] = [];
    /** Small files, read whole on a worker: one chunk (or zero run) each. */
    const processSmall = async (batch: (ScannedEntry & { type: 'file' })[]) => {
      throwIfAborted(signal, 'push', batch[0]!.abs);
      const read = await ctx.chunker().readFiles(
        batch.map((f) => ({ path: f.abs, size: f.size })),
        { signal, buffer: batchBuffers.pop(), bufferSize: BATCH_BYTES + SMALL_FILE },
      );
      for (const [i, file] of batch.entries()) {
        const { data, hash, stamp } = read[i]!;
        // a file that changed since the scan would be stored as a mix of two versions
        if (data.length !== file.size || !sameStamp(stamp, file.stat)) throw changed(file.abs);
        if (hash === null) zeroBytes += data.length;
        record(file, [
          hash === null ? -data.length : await addChunk(hash, data.length, (t) => void t.set(data)),
        ]);
        progress.add(data.length);
      }
      // every chunk of the batch has been copied into a pack (addChunk resolved): reuse its buffer
      batchBuffers.push(read[0]!.data.buffer as ArrayBuffer);
    };

    /** A larger file: the workers read, chunk and hash it; new chunks go from their read buffers into packs. */
    const chunkFile = async (file: ScannedEntry & { type: 'file' }, readAhead: number): Promise<number[]> => {
      const extents: number[] = [];
      const chunks = ctx.chunker().chunkFile(file.abs, { signal, readAhead, withData: true });
      for await (const batch of chunks) {
        for (const chunk of batch) {
          if (chunk.hash === null) {
            zeroBytes += chunk.length;
            extents.push(-chunk.length);
          } else {
            const data = chunk.data!;
            extents.push(await addChunk(chunk.hash, chunk.length, (target) => void target.set(data)));
          }
          progress.add(chunk.length);
        }
      }
      return extents;
    };

    const processFile = async (file: ScannedEntry & { type: 'file' }, readAhead: number) => {
      throwIfAborted(signal, 'push', file.abs);
      const extents = await chunkFile(file, readAhead);
      // a file that changed while it was read would be stored as a mix of two versions
      const after = stampOf(await lstat(file.abs, { bigint: true }));
      if (!sameStamp(after, file.stat)) throw changed(file.abs);
      record(file, extents);
    };

    try {
      // files unchanged since the last push or pull are taken from its record; small files go to
      // the workers in batches, files of one segment a few at a time (one such file leaves a
      // worker idle), then larger files one by one, each with all the read-ahead
      const toRead = files.filter((file) => {
        const extents = file.size === 0 ? [] : reuse(file);
        if (!extents) return true;
        progress.add(file.size);
        record(file, extents);
        return false;
      });
      const batches = pLimit(BATCHES_AT_ONCE);
      const medium = pLimit(MEDIUM_AT_ONCE);
      const { segmentSize } = ctx.chunker();
      const readAhead = ctx.memoryBudget / 2;
      await settleAll([
        ...smallBatches(toRead.filter((f) => f.size <= SMALL_FILE)).map((b) =>
          batches(() => processSmall(b)),
        ),
        ...toRead
          .filter((f) => f.size > SMALL_FILE && f.size <= segmentSize)
          .map((f) => medium(() => processFile(f, readAhead / MEDIUM_AT_ONCE))),
      ]);
      for (const file of toRead.filter((f) => f.size > segmentSize)) await processFile(file, readAhead);
      await packs.finish();
    } catch (err) {
      await packs.abandon();
      throw err;
    }
    progress.done();

    const commit = new Progress('commit', { bytes: 0, files: 0 }, options.onProgress);
    const entries: ManifestEntry[] = scanned.map((e): ManifestEntry => {
      if (e.type === 'dir') return { path: e.path, type: 'dir', mode: e.mode, mtimeMs: e.mtimeMs };
      if (e.type === 'symlink') return { path: e.path, type: 'symlink', target: e.target };
      return {
        path: e.path,
        type: 'file',
        mode: e.mode,
        size: e.size,
        mtimeMs: e.mtimeMs,
        extents: extentsByPath.get(e.path)!,
      };
    });
    const labels = options.labels ?? {};
    const unchanged = base !== undefined && chunksNew === 0 && sameContent(base, entries, table.rows);
    const result = (generation: string, bytesTransferred: number, concurrent: string[]): PushResult => {
      const durationMs = Date.now() - started;
      return {
        model,
        generation,
        parent,
        files: files.length,
        bytes,
        bytesTransferred,
        chunksNew,
        chunksReused: table.rows.count - chunksNew,
        zeroBytes,
        durationMs,
        throughput: durationMs > 0 ? (bytes / durationMs) * 1000 : 0,
        unchanged,
        concurrent,
      };
    };

    // the directory is exactly the latest generation (bytes, modes, times, labels): keep that one
    if (
      unchanged &&
      base !== undefined &&
      sameContent(base, entries, table.rows, { times: true }) &&
      canonicalLabels(base.labels) === canonicalLabels(labels) &&
      ((await listGenerations(store, model, signal)).at(-1) ?? null) === parent
    ) {
      commit.done();
      const state = { store: store.name, model, generation: parent!, durable: true, stamps, manifest: base };
      await writeLocalState(ctx.stateDir, root, state).catch(() => undefined);
      return result(parent!, 0, []);
    }

    await lease.confirm(model);

    const generationsNow = await listGenerations(store, model, signal);
    const latestNow = generationsNow.at(-1) ?? null;
    const concurrent = generationsNow.filter((g) => !startGenerations.includes(g));
    if (options.expectLatest !== undefined && latestNow !== options.expectLatest) {
      throw conflict(model, `generation ${latestNow} was committed by another writer during this push`);
    }
    const generation = newGenerationId(new Date(), latestNow ?? undefined);
    const { manifest, bytes: encoded } = sealAndEncode({
      format: MANIFEST_FORMAT,
      model,
      generation,
      parent,
      createdAt: new Date().toISOString(),
      labels,
      chunking: { ...ctx.chunking },
      packs: table.packs,
      chunks: table.rows,
      entries,
    });
    const key = manifestKey(model, generation);
    await store.put(key, encoded, {
      size: encoded.length,
      signal,
      ...(store.capabilities.conditionalCreate ? { ifNoneMatch: '*' as const } : {}),
    });
    commit.done();
    await writeLocalState(
      ctx.stateDir,
      root,
      {
        store: store.name,
        model,
        generation,
        durable: true,
        stamps,
        manifest,
      },
      encoded,
    ).catch(() => undefined); // the record only saves time; the commit already happened

    return result(generation, packs.bytesStored + encoded.length, concurrent);
  } finally {
    await lease.release();
  }
}

/** Small files in batches of at most {@link BATCH_FILES} files and about {@link BATCH_BYTES} bytes, in order. */
function smallBatches<F extends { size: number }>(files: F[]): F[][] {
  const batches: F[][] = [];
  let bytes = Number.POSITIVE_INFINITY;
  for (const file of files) {
    const last = batches.at(-1);
    if (!last || last.length >= BATCH_FILES || bytes + file.size > BATCH_BYTES) {
      batches.push([file]);
      bytes = file.size;
    } else {
      last.push(file);
      bytes += file.size;
    }
  }
  return batches;
}

/** The latest generations of the other models named in `dedupWith` (`'*'`: every model). */
async function dedupBases(
  store: ObjectStore,
  model: string,
  dedupWith: string[],
  signal?: AbortSignal,
): Promise<BaseGeneration[]> {
  if (dedupWith.length === 0) return [];
  const all = dedupWith.includes('*') ? await listAllGenerations(store, signal) : undefined;
  const models = all ? [...all.keys()] : dedupWith.map((m) => validateModel(m));
  const out: BaseGeneration[] = [];
  for (const other of models.filter((m) => m !== model)) {
    const generation = (all?.get(other) ?? (await listGenerations(store, other, signal))).at(-1);
    if (generation) out.push({ model: other, generation });
  }
  return out;
}

/** The packs of `manifests` the store no longer has. */
async function missingPacks(
  ctx: EngineContext,
  manifests: (Manifest | undefined)[],
  signal?: AbortSignal,
): Promise<Set<string>> {
  const ids = new Set(manifests.flatMap((m) => m?.packs ?? []));
  const missing = new Set<string>();
  const limit = pLimit(Math.max(4, ctx.concurrency * 2));
  await Promise.all(
    [...ids].map((id) =>
      limit(() =>
        ctx.store.head(packKey(id), { signal }).catch((err) => {
          if (!StoreError.is(err, 'NotFound')) throw err;
          missing.add(id);
        }),
      ),
    ),
  );
  return missing;
}

/** True when `entries` hold exactly the base generation's files, bytes and modes (and times). */
function sameContent(
  base: Manifest,
  entries: ManifestEntry[],
  rows: ChunkRows,
  { times = false } = {},
): boolean {
  const canon = (list: ManifestEntry[], chunkRows: ChunkRows) =>
    JSON.stringify(
      list.map((e) => {
        const mtimeMs = times && e.type !== 'symlink' ? e.mtimeMs : 0;
        return e.type === 'file'
          ? { ...e, mtimeMs, extents: e.extents.map((x) => (x < 0 ? x : chunkRows.hashOf(x))) }
          : { ...e, mtimeMs };
      }),
    );
  return canon(base.entries, base.chunks) === canon(entries, rows);
}

function canonicalLabels(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function conflict(model: string, detail: string): StoreError {
  return new StoreError('Conflict', detail, { operation: 'push', key: model });
}

function changed(file: string): StoreError {
  return new StoreError('Conflict', 'the file changed while it was being pushed', {
    operation: 'push',
    key: file,
  });
}

function ignoreUnreadable(err: unknown): undefined {
  // a damaged or just-removed base only costs deduplication
  if (StoreError.is(err, 'Integrity', 'NotFound')) return undefined;
  throw err;
}
