import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectMeta } from '../store.js';
import { deleteGeneration, type TrashRecord } from './delete.js';
import type { EngineContext } from './engine-context.js';
import { manifestKey, PACKS, packIdOf, parseGenerationKey, TRASH, trashKey } from './layout.js';
import { type LivePush, readPushes, storeNow } from './push-lease.js';
import { eachLimited } from './run-all.js';
import { listAllGenerations, listAllModels, readJsonRecord, readManifestHead } from './stored-generations.js';
import { listSweepRecords, readSweepRecord, writeSweepRecords } from './sweep-records.js';
import type { GcOptions, GcResult } from './types.js';

/** What dead writers left is removed once untouched this long at least, whatever the grace: a live put may pause. */
const ABANDONED_MIN_AGE_MS = 60_000;

/**
 * Slack for comparing the store's modification times: a store that keeps them to the second (its
 * clock read shows whole seconds) may list an object written just after `now` as older than it.
 */
function clockSlack(now: number): number {
  return now % 1000 === 0 ? 1000 : 0;
}

/** Pack deletions sent at once while the packs are listed. */
const DELETE_BATCH = 1000;

/**
 * Collects garbage. Every age is measured on the store's clock (`now`, read first), never a local one.
 * 1. The pushes in flight are read (their records in `ckpt/pushes/`).
 * 2. Generations beyond `keep` per model are moved to the trash (like `delete`).
 * 3. Trash records older than `grace` are purged; younger ones keep their packs alive.
 * 4. Packs are listed. Those no committed generation and no young trash record references and
 *    older than `grace` are named in sweep records (sweep-records.ts) before anything else is read.
 * 5. The pushes in flight are read again; then generations and trash records that appeared since
 *    steps 2 and 3 are read, and keep their packs.
 * 6. The packs of the sweep records are deleted, except those a base generation of a live push
 *    references, those a live push resumes (names in its record), and those younger than the
 *    start of a live push. Its sweep records are removed, and so are those of gcs that died once
 *    every pack they name is gone, and the summary keys (summary-keys.ts) of generations that
 *    are not their model's latest (older, expired, or no longer listed).
 * Why no setting can break a committed generation: a push's new packs are younger than its start
 * (live pushes, step 1 or 5) or than `now` (pushes that started after step 1); the packs it reuses
 * from generations belong to generations its record names before it reads them, so a gc that
 * trashed one before reading the record has also deleted the manifest the push would read, and a
 * gc that reads the record keeps them; a push that committed and ended before step 1 has its
 * manifest listed in step 2. The packs it resumes (push-resume.ts), older than its start, are
 * named in its record before it lists the sweep records, and it skips any pack one names: so a gc
 * that deletes such a pack wrote its sweep record after the push wrote its record, and read
 * pushes in step 5 after that: it sees the push's record, or (the push ended) the generation it
 * committed or that generation's trash record. A sweep record stays until its gc is done, or
 * every pack it names is gone. A push that could not renew its record in time refuses to commit
 * (push-lease.ts). An unreadable manifest stops the collection: without it, what is garbage
 * cannot be known.
 *
 * What it holds does not grow with the checkpoints' chunks: manifests are read `concurrency` at a
 * time (the first failure stops the rest), each streamed through its checksum with only its head
 * kept (`readManifestHead`); besides the lists of generations and trash records, only the set of
 * referenced pack ids and the packs it may delete stay; those are deleted in batches.
 */
export async function collectGarbage(ctx: EngineContext, options: GcOptions = {}): Promise<GcResult> {
  const started = Date.now();
  const { store } = ctx;
  const { signal } = options;
  const grace = options.grace ?? ctx.grace;
  if (options.keep === 0 && !options.all) {
    throw new StoreError(
      'InvalidArgument',
      'keep 0 removes every generation of every model: say all to do so',
      {
        operation: 'gc',
        key: 'keep',
      },
    );
  }
  const result: GcResult = {
    expiredGenerations: [],
    purgedGenerations: 0,
    packsDeleted: 0,
    bytesFreed: 0,
    packsLive: 0,
    packsInGrace: 0,
    pushesInFlight: 0,
    abandonedRemoved: 0,
    durationMs: 0,
  };
  // a dry run writes nothing, not even the clock object: it reads the local clock instead
  const now = options.dryRun ? Date.now() : await storeNow(store, signal);
  const before = await readPushes(store, now, signal);

  const live = new Set<string>();
  /** Generations (manifest keys) and trash records read in this run. */
  const seen = new Set<string>();
  /** Packs of the generations (`model@generation`) the pushes in flight named as bases, read in this run. */
  const basePacks = new Map<string, string[]>();
  const named = new Set(before.live.flatMap((p) => p.bases.map((b) => `${b.model}@${b.generation}`)));
  const keep = (count: number) => (options.keep === undefined ? count : Math.max(0, options.keep));
  const models = await listAllModels(store, signal);
  const generations = [...models].flatMap(([model, { generations: ids }]) =>
    ids.map((generation, i) => ({ model, generation, expired: i < ids.length - keep(ids.length) })),
  );
  const expiring = new Set(generations.filter((g) => g.expired).map((g) => `${g.model}@${g.generation}`));
  const staleSummaries = [...models].flatMap(([model, listed]) => {
    const latest = listed.generations.at(-1);
    return listed.summaries
      .filter((s) => s.generation !== latest || expiring.has(`${model}@${latest}`))
      .map((s) => s.key);
  });
  await eachLimited(generations, ctx.concurrency, async ({ model, generation, expired }) => {
    throwIfAborted(signal, 'gc');
    const packs = await packsOfGeneration(store, model, generation, signal);
    seen.add(manifestKey(model, generation));
    for (const id of packs) live.add(id);
    if (named.has(`${model}@${generation}`)) basePacks.set(`${model}@${generation}`, packs);
    if (expired && !options.dryRun) await deleteGeneration(store, model, generation, signal, packs);
  });
  result.expiredGenerations = [...expiring];

  const slack = clockSlack(now);
  const cutoff = now - grace;
  const purge: string[] = [];
  const trash: ObjectMeta[] = [];
  for await (const meta of store.list(TRASH, { signal }))
    if (parseGenerationKey(meta.key, TRASH)) trash.push(meta);
  await eachLimited(trash, ctx.concurrency, async (meta) => {
    const record = await readTrashRecord(store, meta.key, signal);
    seen.add(meta.key);
    if (record === null) return;
    const packs = record?.packs ?? [];
    const { model, generation } = parseGenerationKey(meta.key, TRASH)!;
    if (named.has(`${model}@${generation}`)) basePacks.set(`${model}@${generation}`, packs);
    const deletedAt = record ? Date.parse(record.deletedAt) : meta.lastModified.getTime();
    if (Number.isFinite(deletedAt) && deletedAt <= cutoff && meta.lastModified.getTime() <= cutoff)
      purge.push(meta.key);
    else for (const id of packs) live.add(id);
  });

  // sweep records of gcs that died: listed before the packs, so a pack one names that the listing misses is gone
  const earlierSweeps = options.dryRun ? [] : await listSweepRecords(store, signal);
  const listed = new Set<string>();
  const candidates: { key: string; id: string; size: number; lastModified: number }[] = [];
  for await (const meta of store.list(PACKS, { signal })) {
    const id = packIdOf(meta.key);
    if (!id) continue;
    listed.add(id);
    if (live.has(id)) result.packsLive++;
    else candidates.push({ key: meta.key, id, size: meta.size, lastModified: meta.lastModified.getTime() });
  }
  const doomed = candidates.filter((pack) => pack.lastModified < cutoff - slack);
  const sweeps =
    doomed.length && !options.dryRun
      ? await writeSweepRecords(
          store,
          doomed.map((pack) => pack.id),
          signal,
        )
      : [];

  const after = await readPushes(store, now, signal);
  const pushes = [...before.live, ...after.live];
  result.pushesInFlight = after.live.length;
  if (doomed.length) await readLaterReferences(store, seen, live, signal);
  const needed = await packsOfBases(ctx, pushes, basePacks, signal);
  for (const id of pushes.flatMap((p) => p.packs)) needed.add(id);
  const keepTrash = new Set(pushes.flatMap((p) => p.bases.map((b) => trashKey(b.model, b.generation))));
  const oldestPush = Math.min(now, ...pushes.map((p) => p.startedAt)) - slack;
  let batch: string[] = [];
  const deleteBatch = async () => {
    const keys = batch;
    batch = [];
    if (options.dryRun || keys.length === 0) return;
    const { errors } = await store.deleteMany(keys, { signal });
    if (errors.length) throw errors[0]!.error;
  };
  for (const pack of candidates) {
    if (needed.has(pack.id) || live.has(pack.id)) result.packsLive++;
    else if (pack.lastModified >= cutoff - slack || pack.lastModified >= oldestPush) result.packsInGrace++;
    else {
      result.packsDeleted++;
      result.bytesFreed += pack.size;
      batch.push(pack.key);
      listed.delete(pack.id);
      if (batch.length >= DELETE_BATCH) await deleteBatch();
    }
  }
  await deleteBatch();
  const purged = purge.filter((key) => !keepTrash.has(key));
  result.purgedGenerations = purged.length;
  if (!options.dryRun) {
    throwIfAborted(signal, 'gc');
    const removed = await store.deleteMany([...purged, ...after.dead, ...staleSummaries], { signal });
    if (removed.errors.length) throw removed.errors[0]!.error;
    const done = [...sweeps, ...(await finishedSweeps(store, earlierSweeps, listed, signal))];
    const swept = await store.deleteMany(done, { signal });
    if (swept.errors.length) throw swept.errors[0]!.error;
    const abandoned = await store.removeAbandoned?.(Math.max(grace, ABANDONED_MIN_AGE_MS), { signal });
    result.abandonedRemoved = abandoned?.removed ?? 0;
    result.bytesFreed += abandoned?.bytes ?? 0;
  }
  result.durationMs = Date.now() - started;
  return result;
}

/** The packs of a committed generation; one that cannot be read stops gc. */
async function packsOfGeneration(
  store: EngineContext['store'],
  model: string,
  generation: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const manifest = await readManifestHead(store, model, generation, signal).catch((err) => {
    if (StoreError.is(err, 'Integrity')) {
      throw new StoreError(
        'Integrity',
        `${err.message}; gc stopped: delete or repair that generation first`,
        {
          operation: 'gc',
          key: `${model}@${generation}`,
          cause: err,
        },
      );
    }
    throw err;
  });
  return manifest.packs;
}

/**
 * Adds to `live` the packs of generations committed, and of trash records written, since this gc
 * listed them (`seen` has those it read): a push that resumed packs may have committed and
 * ended after gc read the pushes in flight the first time. Trash is listed last: a generation
 * deleted between the two listings has its trash record written before its manifest goes.
 */
async function readLaterReferences(
  store: EngineContext['store'],
  seen: Set<string>,
  live: Set<string>,
  signal?: AbortSignal,
): Promise<void> {
  for (const [model, generations] of await listAllGenerations(store, signal)) {
    for (const generation of generations) {
      const key = manifestKey(model, generation);
      if (seen.has(key)) continue;
      const packs = await packsOfGeneration(store, model, generation, signal).catch((err) => {
        if (StoreError.is(err, 'NotFound')) return []; // deleted since: its trash record is listed below
        throw err;
      });
      seen.add(key);
      for (const id of packs) live.add(id);
    }
  }
  for await (const meta of store.list(TRASH, { signal })) {
    if (!parseGenerationKey(meta.key, TRASH) || seen.has(meta.key)) continue;
    const packs = (await readTrashRecord(store, meta.key, signal))?.packs ?? [];
    seen.add(meta.key);
    for (const id of packs) live.add(id);
  }
}

/**
 * The sweep records of `keys` (listed before the packs) whose packs are all gone: their gc can
 * delete nothing more. `present`: the packs listed, less those this gc deleted.
 */
async function finishedSweeps(
  store: EngineContext['store'],
  keys: string[],
  present: Set<string>,
  signal?: AbortSignal,
): Promise<string[]> {
  const finished: string[] = [];
  for (const key of keys) {
    const packs = await readSweepRecord(store, key, signal);
    if (packs && !packs.some((id) => present.has(id))) finished.push(key);
  }
  return finished;
}

/** Every pack a base generation of a live push references, wherever its list is. */
async function packsOfBases(
  ctx: EngineContext,
  pushes: LivePush[],
  basePacks: Map<string, string[]>,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const needed = new Set<string>();
  for (const { model, generation } of pushes.flatMap((p) => p.bases)) {
    let packs = basePacks.get(`${model}@${generation}`);
    // named by a push seen only now: its manifest (or its trash record) is read again
    packs ??= await readManifestHead(ctx.store, model, generation, signal).then(
      (m) => m.packs,
      async () => (await readTrashRecord(ctx.store, trashKey(model, generation), signal))?.packs ?? [],
    );
    for (const id of packs) needed.add(id);
  }
  return needed;
}

/** A trash record; null when it is gone, undefined when it cannot be read as one. */
async function readTrashRecord(
  store: EngineContext['store'],
  key: string,
  signal?: AbortSignal,
): Promise<TrashRecord | null | undefined> {
  return (await readJsonRecord(store, key, 64 * 1024 * 1024, signal)) as TrashRecord | null | undefined;
}
