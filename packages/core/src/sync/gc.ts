import { StoreError, throwIfAborted } from '../errors.js';
import { deleteGeneration, type TrashRecord } from './delete.js';
import type { EngineContext } from './engine-context.js';
import { manifestKey, PACKS, packIdOf, parseGenerationKey, TRASH, trashKey } from './layout.js';
import { type LivePush, readPushes, storeNow } from './push-lease.js';
import { listAllGenerations, readJsonRecord, readManifest } from './stored-generations.js';
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
 *    every pack they name is gone.
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
  /** Packs of generations read in this run (committed or trashed), for the bases of live pushes. */
  const packsOf = new Map<string, string[]>();
  const models = await listAllGenerations(store, signal);
  for (const [model, generations] of models) {
    const keep = options.keep === undefined ? generations.length : Math.max(0, options.keep);
    const expired = generations.slice(0, Math.max(0, generations.length - keep));
    for (const generation of generations) {
      throwIfAborted(signal, 'gc');
      const packs = await packsOfGeneration(store, model, generation, signal);
      for (const id of packs) live.add(id);
      packsOf.set(manifestKey(model, generation), packs);
      if (expired.includes(generation)) {
        result.expiredGenerations.push(`${model}@${generation}`);
        if (!options.dryRun) await deleteGeneration(store, model, generation, signal);
      }
    }
  }

  const slack = clockSlack(now);
  const cutoff = now - grace;
  const purge: { key: string; packs: string[] }[] = [];
  for await (const meta of store.list(TRASH, { signal })) {
    if (!parseGenerationKey(meta.key, TRASH)) continue;
    const record = await readTrashRecord(store, meta.key, signal);
    if (record === null) continue;
    const packs = record?.packs ?? [];
    packsOf.set(meta.key, packs);
    const deletedAt = record ? Date.parse(record.deletedAt) : meta.lastModified.getTime();
    if (Number.isFinite(deletedAt) && deletedAt <= cutoff && meta.lastModified.getTime() <= cutoff)
      purge.push({ key: meta.key, packs });
    else for (const id of packs) live.add(id);
  }

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
  if (doomed.length) await readLaterReferences(store, packsOf, live, signal);
  const needed = await packsOfBases(ctx, pushes, packsOf, signal);
  for (const id of pushes.flatMap((p) => p.packs)) needed.add(id);
  const keepTrash = new Set(pushes.flatMap((p) => p.bases.map((b) => trashKey(b.model, b.generation))));
  const oldestPush = Math.min(now, ...pushes.map((p) => p.startedAt)) - slack;
  const garbage: { key: string; id: string; size: number }[] = [];
  for (const pack of candidates) {
    if (needed.has(pack.id) || live.has(pack.id)) result.packsLive++;
    else if (pack.lastModified >= cutoff - slack || pack.lastModified >= oldestPush) result.packsInGrace++;
    else garbage.push(pack);
  }
  const purged = purge.filter((p) => !keepTrash.has(p.key)).map((p) => p.key);
  result.purgedGenerations = purged.length;
  result.packsDeleted = garbage.length;
  result.bytesFreed = garbage.reduce((sum, g) => sum + g.size, 0);
  if (!options.dryRun) {
    throwIfAborted(signal, 'gc');
    const { errors } = await store.deleteMany(
      garbage.map((g) => g.key),
      { signal },
    );
    if (errors.length) throw errors[0]!.error;
    const removed = await store.deleteMany([...purged, ...after.dead], { signal });
    if (removed.errors.length) throw removed.errors[0]!.error;
    for (const pack of garbage) listed.delete(pack.id);
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
  const manifest = await readManifest(store, model, generation, signal).catch((err) => {
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
 * listed them (`packsOf` has those it read): a push that resumed packs may have committed and
 * ended after gc read the pushes in flight the first time. Trash is listed last: a generation
 * deleted between the two listings has its trash record written before its manifest goes.
 */
async function readLaterReferences(
  store: EngineContext['store'],
  packsOf: Map<string, string[]>,
  live: Set<string>,
  signal?: AbortSignal,
): Promise<void> {
  for (const [model, generations] of await listAllGenerations(store, signal)) {
    for (const generation of generations) {
      const key = manifestKey(model, generation);
      if (packsOf.has(key)) continue;
      const packs = await packsOfGeneration(store, model, generation, signal).catch((err) => {
        if (StoreError.is(err, 'NotFound')) return []; // deleted since: its trash record is listed below
        throw err;
      });
      packsOf.set(key, packs);
      for (const id of packs) live.add(id);
    }
  }
  for await (const meta of store.list(TRASH, { signal })) {
    if (!parseGenerationKey(meta.key, TRASH) || packsOf.has(meta.key)) continue;
    const packs = (await readTrashRecord(store, meta.key, signal))?.packs ?? [];
    packsOf.set(meta.key, packs);
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
  packsOf: Map<string, string[]>,
  signal?: AbortSignal,
): Promise<Set<string>> {
  const needed = new Set<string>();
  for (const { model, generation } of pushes.flatMap((p) => p.bases)) {
    let packs = packsOf.get(manifestKey(model, generation)) ?? packsOf.get(trashKey(model, generation));
    // committed after this run listed the generations: its packs are young, but read it anyway
    packs ??= await readManifest(ctx.store, model, generation, signal).then(
      (m) => m.packs,
      () => [],
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
