import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectMeta } from '../store.js';
import { deleteGeneration, type TrashRecord } from './delete.js';
import type { EngineContext } from './engine-context.js';
import { PACKS, packIdOf, parseGenerationKey, TRASH, trashKey } from './layout.js';
import { type LivePush, readPushes, storeNow } from './push-lease.js';
import { eachLimited } from './run-all.js';
import { listAllGenerations, readJsonRecord, readManifestHead } from './stored-generations.js';
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
 * 4. The pushes in flight are read again; packs are listed.
 * 5. Packs are deleted when no committed generation, no young trash record and no base generation
 *    of a live push references them, when they are older than `grace`, and when they are older
 *    than the start of every live push.
 * Why no setting can break a committed generation: a push's new packs are younger than its start
 * (live pushes, step 1 or 4) or than `now` (pushes that started after step 1); the packs it reuses
 * belong to generations its record names before it reads them, so a gc that trashed one before
 * reading the record (step 4 comes after step 2) has also deleted the manifest the push would
 * read, and a gc that reads the record keeps them; a push that committed and ended before step 1
 * has its manifest listed in step 2. A push that could not renew its record in time refuses to
 * commit (push-lease.ts). An unreadable manifest stops the collection: without it, what is
 * garbage cannot be known.
 *
 * What it holds does not grow with the checkpoints' chunks: manifests are read `concurrency` at a
 * time (the first failure stops the rest), each streamed through its checksum with only its head
 * kept (`readManifestHead`); besides the list of generations, only the set of referenced pack ids
 * stays; packs are decided as they are listed and deleted in batches.
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
  /** Packs of the generations (`model@generation`) the pushes in flight named as bases, read in this run. */
  const basePacks = new Map<string, string[]>();
  const named = new Set(before.live.flatMap((p) => p.bases.map((b) => `${b.model}@${b.generation}`)));
  const keep = (count: number) => (options.keep === undefined ? count : Math.max(0, options.keep));
  const generations = [...(await listAllGenerations(store, signal))].flatMap(([model, ids]) =>
    ids.map((generation, i) => ({ model, generation, expired: i < ids.length - keep(ids.length) })),
  );
  await eachLimited(generations, ctx.concurrency, async ({ model, generation, expired }) => {
    throwIfAborted(signal, 'gc');
    const { packs } = await readManifestHead(store, model, generation, signal).catch((err) => {
      if (!StoreError.is(err, 'Integrity')) throw err;
      throw new StoreError(
        'Integrity',
        `${err.message}; gc stopped: delete or repair that generation first`,
        {
          operation: 'gc',
          key: `${model}@${generation}`,
          cause: err,
        },
      );
    });
    for (const id of packs) live.add(id);
    if (named.has(`${model}@${generation}`)) basePacks.set(`${model}@${generation}`, packs);
    if (expired && !options.dryRun) await deleteGeneration(store, model, generation, signal, packs);
  });
  result.expiredGenerations = generations.filter((g) => g.expired).map((g) => `${g.model}@${g.generation}`);

  const slack = clockSlack(now);
  const cutoff = now - grace;
  const purge: string[] = [];
  const trash: ObjectMeta[] = [];
  for await (const meta of store.list(TRASH, { signal }))
    if (parseGenerationKey(meta.key, TRASH)) trash.push(meta);
  await eachLimited(trash, ctx.concurrency, async (meta) => {
    const record = await readTrashRecord(store, meta.key, signal);
    if (record === null) return;
    const packs = record?.packs ?? [];
    const { model, generation } = parseGenerationKey(meta.key, TRASH)!;
    if (named.has(`${model}@${generation}`)) basePacks.set(`${model}@${generation}`, packs);
    const deletedAt = record ? Date.parse(record.deletedAt) : meta.lastModified.getTime();
    if (Number.isFinite(deletedAt) && deletedAt <= cutoff && meta.lastModified.getTime() <= cutoff)
      purge.push(meta.key);
    else for (const id of packs) live.add(id);
  });

  const after = await readPushes(store, now, signal);
  const pushes = [...before.live, ...after.live];
  result.pushesInFlight = after.live.length;
  const needed = await packsOfBases(ctx, pushes, basePacks, signal);
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
  for await (const meta of store.list(PACKS, { signal })) {
    const id = packIdOf(meta.key);
    if (!id) continue;
    const lastModified = meta.lastModified.getTime();
    if (live.has(id) || needed.has(id)) result.packsLive++;
    else if (lastModified >= cutoff - slack || lastModified >= oldestPush) result.packsInGrace++;
    else {
      result.packsDeleted++;
      result.bytesFreed += meta.size;
      batch.push(meta.key);
      if (batch.length >= DELETE_BATCH) await deleteBatch();
    }
  }
  await deleteBatch();
  const purged = purge.filter((key) => !keepTrash.has(key));
  result.purgedGenerations = purged.length;
  if (!options.dryRun) {
    throwIfAborted(signal, 'gc');
    const removed = await store.deleteMany([...purged, ...after.dead], { signal });
    if (removed.errors.length) throw removed.errors[0]!.error;
    const abandoned = await store.removeAbandoned?.(Math.max(grace, ABANDONED_MIN_AGE_MS), { signal });
    result.abandonedRemoved = abandoned?.removed ?? 0;
    result.bytesFreed += abandoned?.bytes ?? 0;
  }
  result.durationMs = Date.now() - started;
  return result;
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
