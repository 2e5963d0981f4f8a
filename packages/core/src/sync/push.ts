import { CacheFiller } from '../cache/cache-filler.js';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { ChunkPacker } from './chunk-packer.js';
import { ChunkTableBuilder } from './chunk-table-builder.js';
import { localDirectory } from './destination.js';
import type { EngineContext } from './engine-context.js';
import { manifestKey } from './layout.js';
import { readLocalState, writeLocalState } from './local-state.js';
import {
  LEAD_METADATA,
  leadTag,
  MANIFEST_FORMAT,
  type Manifest,
  type ManifestEntry,
  sealAndEncode,
} from './manifest.js';
import { newGenerationId, validateModel } from './names.js';
import { PackWriter } from './pack-writer.js';
import { Progress } from './progress.js';
import { checkBases, parentDamage } from './push-base-check.js';
import { PushJournal } from './push-journal.js';
import { type BaseGeneration, PushLease } from './push-lease.js';
import { planReuse } from './push-plan.js';
import { readChanged } from './push-read.js';
import { resumablePacks, reusableWithResumed } from './push-resume.js';
import { sameTree } from './same-tree.js';
import { type ScannedEntry, scanDirectory } from './scan.js';
import { type FileStamp, sameStamp } from './stamp.js';
import {
  generationInfo,
  listAllGenerations,
  listGenerations,
  listModel,
  readManifest,
} from './stored-generations.js';
import { writeSummaryKey } from './summary-keys.js';
import { restoreInterruptedSwap } from './swap.js';
import type { PushOptions, PushResult } from './types.js';

/**
 * Pushes directory `dir` as a new generation of `model`, in stages:
 * 1. scan the directory (files, dirs, symlinks; special files refused), then open the store
 *    (its record: format, chunking parameters);
 * 2. take a lease naming the generations the push may reuse, then read them (push-lease.ts) and
 *    check that their chunks are still stored (push-base-check.ts: sizes; with `repair`, hashes);
 * 3. plan: files unchanged since the last push or pull (local record) keep their chunks unread;
 * 4. read, chunk and hash the rest (zero runs skipped) and upload chunks no base stores, in packs;
 * 5. commit: write the manifest, unless the directory is exactly the latest generation.
 * Nothing is visible to readers until step 5's single put succeeds; a failure leaves only
 * unreferenced packs. A directory that is exactly the latest generation (bytes, modes, times,
 * labels) commits nothing: the result names that generation.
 */
export async function push(
  ctx: EngineContext,
  model: string,
  dir: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const started = Date.now();
  const { store } = ctx;
  const { signal } = options;
  validateModel(model);
  const root = localDirectory(dir, 'push');
  throwIfAborted(signal, 'push', model);
  await restoreInterruptedSwap(root);
  const state = await readLocalState(ctx.stateDir, root, store.name);
  const previous = state?.model === model ? state : undefined;
  // files new or changed since the last push or pull are read on the file workers: start
  // them (tens of milliseconds) as soon as the scan finds the first such file
  const scanned = await scanDirectory(root, (e) => {
    if (e.type === 'file' && e.size > 0 && !sameStamp(previous?.stamps[e.path], e.stat)) ctx.workers().warm();
  });
  const files = scanned.filter((e) => e.type === 'file');
  const bytes = files.reduce((sum, f) => sum + f.size, 0);
  new Progress('scan', { bytes, files: files.length }, options.onProgress).done();

  // creates the store where the backend can and reads (or writes) its record: reads never
  // create a store, and a push that fails on its own arguments or files writes nothing
  await ctx.open(signal, 'push');

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
  // packs a killed or failed push of this directory stored: the lease names them before they are checked
  const journaled = await PushJournal.read(ctx.stateDir, root, store.name);
  const lease = await PushLease.take(store, model, bases, {
    renewMs: ctx.leaseRenewMs,
    packs: journaled.map((p) => p.id),
    signal,
  });
  let journal: PushJournal | undefined;
  let filler: CacheFiller | undefined;
  try {
    const [manifests, { packs: resumed, bytesRead: bytesReadBack }] = await Promise.all([
      Promise.all(
        bases.map((b) => readManifest(store, b.model, b.generation, signal).catch(ignoreUnreadable)),
      ),
      resumablePacks(store, journaled, ctx.concurrency, signal),
    ]);
    journal = new PushJournal(ctx.stateDir, root, store.name, resumed);
    const base = parent ? manifests[0] : undefined;
    // chunks that are not intact (their pack lost, cut short or, found by `repair`, damaged) are
    // uploaded again; then come those of the packs resumed
    const check = await checkBases(ctx, manifests, options);
    const known = reusableWithResumed(manifests, check.intact, resumed);
    const table = new ChunkTableBuilder();
    const packs = packWriter(ctx, store, journal, signal);
    // new chunks go into the host's chunk cache too, as far as its writes keep up
    filler = ctx.cache && new CacheFiller(ctx.cache, ctx.cacheWriter(), { whenFull: 'drop' });
    const chunks = new ChunkPacker(table, known, packs, filler);
    const progress = new Progress('upload', { bytes, files: files.length }, options.onProgress);

    const plan = planReuse(files, previous, chunks);
    for (const file of files) if (plan.reused.has(file.path)) progress.add(file.size, 1);
    const read = await readChanged(ctx, plan.toRead, chunks, progress, signal).then(
      async (result) => {
        await packs.finish();
        return result;
      },
      async (err) => {
        await packs.abandon();
        throw err;
      },
    );
    progress.done();

    const commit = new Progress('commit', { bytes: 0, files: 0 }, options.onProgress);
    const entries = manifestEntries(scanned, (file) => plan.reused.get(file) ?? read.extents.get(file)!);
    const stamps: Record<string, FileStamp> = Object.fromEntries(files.map((f) => [f.path, f.stat]));
    const labels = options.labels ?? {};
    const unchanged = base !== undefined && sameTree(base, entries, table.rows);
    const damage = parentDamage(base, check, table);
    const resumedSizes = new Map(resumed.map((p) => [p.id, p.size]));
    const bytesResumed = table.packs.reduce((sum, id) => sum + (resumedSizes.get(id) ?? 0), 0);
    const result = (generation: string, bytesTransferred: number, concurrent: string[]): PushResult => {
      const durationMs = Date.now() - started;
      return {
        model,
        generation,
        parent,
        files: files.length,
        bytes,
        bytesTransferred,
        chunksNew: chunks.chunksNew,
        chunksReused: table.rows.count - chunks.chunksNew,
        bytesResumed,
        zeroBytes: plan.zeroBytes + read.zeroBytes,
        durationMs,
        throughput: durationMs > 0 ? (bytes / durationMs) * 1000 : 0,
        unchanged,
        concurrent,
        ...damage,
      };
    };
    const remember = (manifest: Manifest, generation: string, encoded?: Uint8Array) =>
      writeLocalState(
        ctx.stateDir,
        root,
        { store: store.name, model, generation, durable: true, stamps, manifest },
        encoded,
      ).catch(() => undefined); // the record only saves time; the commit already happened

    // the directory is exactly the latest generation (bytes, modes, times, labels): keep that one
    if (
      unchanged &&
      chunks.chunksNew === 0 &&
      sameTree(base, entries, table.rows, { times: true }) &&
      canonicalLabels(base.labels) === canonicalLabels(labels) &&
      ((await listGenerations(store, model, signal)).at(-1) ?? null) === parent
    ) {
      commit.done();
      await journal.remove();
      await remember(base, parent!);
      return result(parent!, bytesReadBack, []);
    }

    await lease.confirm(model);
    const listedNow = await listModel(store, model, signal);
    const generationsNow = listedNow.generations;
    const latestNow = generationsNow.at(-1) ?? null;
    const concurrent = generationsNow.filter((g) => !startGenerations.includes(g));
    if (options.expectLatest !== undefined && latestNow !== options.expectLatest) {
      throw conflict(model, `generation ${latestNow} was committed by another writer during this push`);
    }
    const generation = newGenerationId(new Date(), latestNow ?? undefined);
    const summary = {
      files: files.length,
      bytes,
      zeroBytes: plan.zeroBytes + read.zeroBytes,
      storedBytes: table.rows.totalLength(),
      addedBytes: packs.bytesStored + bytesResumed,
    };
    const { manifest, bytes: encoded } = sealAndEncode({
      format: MANIFEST_FORMAT,
      model,
      generation,
      parent,
      createdAt: new Date().toISOString(),
      labels,
      chunking: { ...ctx.chunking },
      summary,
      packs: table.packs,
      chunks: table.rows,
      entries,
    });
    const tag = leadTag(encoded);
    await store.put(manifestKey(model, generation), encoded, {
      size: encoded.length,
      signal,
      ...(tag ? { metadata: { [LEAD_METADATA]: tag } } : {}),
      ...(store.capabilities.conditionalCreate ? { mode: 'create' as const } : {}),
    });
    commit.done();
    if (ctx.summaryKeys)
      await writeSummaryKey(store, generationInfo({ ...manifest, summary }), listedNow.summaries, signal);
    await journal.remove();
    await remember(manifest, generation, encoded);
    return result(generation, bytesReadBack + packs.bytesStored + encoded.length, concurrent);
  } finally {
    journal?.close();
    await Promise.all([lease.release(), filler?.finish()]);
  }
}

/**
 * The pack writer of a push: half the memory budget for packs (the one filling and those whose
 * body an upload holds); each pack goes into the push's journal as its upload starts and ends.
 */
function packWriter(
  ctx: EngineContext,
  store: ObjectStore,
  journal: PushJournal,
  signal?: AbortSignal,
): PackWriter {
  const maxInFlight = Math.max(
    1,
    Math.min(ctx.concurrency, Math.floor(ctx.memoryBudget / 2 / ctx.packSize) - 1),
  );
  return new PackWriter(store, {
    packSize: ctx.packSize,
    maxInFlight,
    // uploads past their body (fsync and rename in a filesystem store) cost no memory
    maxUploads: Math.max(maxInFlight, Math.min(ctx.concurrency, 2 * maxInFlight)),
    onUpload: (pack) => journal.uploading(pack),
    onStored: (id, version) => journal.stored(id, version),
    signal,
  });
}

/** The manifest's entries for the scanned tree, in walk order; `extentsOf` gives each file's extents. */
function manifestEntries(scanned: ScannedEntry[], extentsOf: (file: string) => number[]): ManifestEntry[] {
  return scanned.map((e): ManifestEntry => {
    if (e.type === 'dir') return { path: e.path, type: 'dir', mode: e.mode, mtimeMs: e.mtimeMs };
    if (e.type === 'symlink') return { path: e.path, type: 'symlink', target: e.target };
    return {
      path: e.path,
      type: 'file',
      mode: e.mode,
      size: e.size,
      mtimeMs: e.mtimeMs,
      extents: extentsOf(e.path),
    };
  });
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

function canonicalLabels(labels: Record<string, string>): string {
  return JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function conflict(model: string, detail: string): StoreError {
  return new StoreError('Conflict', detail, { operation: 'push', key: model });
}

function ignoreUnreadable(err: unknown): undefined {
  // a damaged or just-removed base only costs deduplication
  if (StoreError.is(err, 'Integrity', 'NotFound')) return undefined;
  throw err;
}
