import { readAll } from '../body.js';
import { StoreError, throwIfAborted } from '../errors.js';
import { listAllGenerations, readManifest } from './catalog.js';
import type { EngineContext } from './context.js';
import { PACKS, packIdOf, parseGenerationKey, TRASH } from './layout.js';
import { type TrashRecord, trashGeneration } from './remove.js';
import type { GcOptions, GcResult } from './types.js';

/**
 * Collects garbage in three steps:
 * 1. generations beyond `keep` per model are moved to the trash (like `delete`);
 * 2. trash records older than `grace` are purged; younger ones keep their packs alive;
 * 3. packs referenced by no committed generation and no young trash record, and themselves
 *    older than `grace`, are deleted.
 * A push in flight is safe: its new packs are younger than the grace period, and the packs it
 * reuses belong to a generation that is committed or was removed less than `grace` ago (a push
 * refuses to commit after running for half the grace period). An unreadable manifest stops the
 * collection: without it, what is garbage cannot be known.
 */
export async function collectGarbage(ctx: EngineContext, options: GcOptions = {}): Promise<GcResult> {
  const started = Date.now();
  const { store } = ctx;
  const { signal } = options;
  const grace = options.grace ?? ctx.grace;
  const result: GcResult = {
    expiredGenerations: [],
    purgedGenerations: 0,
    packsDeleted: 0,
    bytesFreed: 0,
    packsLive: 0,
    packsInGrace: 0,
    durationMs: 0,
  };
  const live = new Set<string>();
  const models = await listAllGenerations(store, signal);
  for (const [model, generations] of models) {
    const keep = options.keep === undefined ? generations.length : Math.max(0, options.keep);
    const expired = generations.slice(0, Math.max(0, generations.length - keep));
    for (const generation of generations) {
      throwIfAborted(signal, 'gc');
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
      for (const id of manifest.packs) live.add(id);
      if (expired.includes(generation)) {
        result.expiredGenerations.push(`${model}@${generation}`);
        if (!options.dryRun) await trashGeneration(store, model, generation, signal);
      }
    }
  }

  const cutoff = Date.now() - grace;
  const purge: string[] = [];
  for await (const meta of store.list(TRASH, { signal })) {
    if (!parseGenerationKey(meta.key, TRASH)) continue;
    const got = await store.get(meta.key, { signal });
    let record: TrashRecord | undefined;
    try {
      record = JSON.parse(
        (await readAll(got.body, 64 * 1024 * 1024, meta.key)).toString('utf8'),
      ) as TrashRecord;
    } catch {
      record = undefined;
    }
    const deletedAt = record ? Date.parse(record.deletedAt) : meta.lastModified.getTime();
    if (Number.isFinite(deletedAt) && deletedAt <= cutoff && meta.lastModified.getTime() <= cutoff)
      purge.push(meta.key);
    else for (const id of record?.packs ?? []) live.add(id);
  }

  const garbage: { key: string; size: number }[] = [];
  for await (const meta of store.list(PACKS, { signal })) {
    const id = packIdOf(meta.key);
    if (!id) continue;
    if (live.has(id)) result.packsLive++;
    else if (meta.lastModified.getTime() > cutoff) result.packsInGrace++;
    else garbage.push({ key: meta.key, size: meta.size });
  }
  result.purgedGenerations = purge.length;
  result.packsDeleted = garbage.length;
  result.bytesFreed = garbage.reduce((sum, g) => sum + g.size, 0);
  if (!options.dryRun) {
    throwIfAborted(signal, 'gc');
    const { errors } = await store.deleteMany(
      garbage.map((g) => g.key),
      { signal },
    );
    if (errors.length) throw errors[0]!.error;
    const purged = await store.deleteMany(purge, { signal });
    if (purged.errors.length) throw purged.errors[0]!.error;
  }
  result.durationMs = Date.now() - started;
  return result;
}
