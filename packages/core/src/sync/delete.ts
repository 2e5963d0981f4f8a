import { readAll } from '../body.js';
import { StoreError, throwIfAborted } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { manifestKey, trashKey } from './layout.js';
import { legacyObjects } from './legacy.js';
import { validateGeneration, validateModel } from './names.js';
import { listModel, MAX_MANIFEST_BYTES } from './stored-generations.js';
import type { DeleteOptions, DeleteResult } from './types.js';

/** What stays of a deleted generation during the grace period: when, and which packs it used. */
export interface TrashRecord {
  format: 'ckpt-trash/1';
  deletedAt: string;
  packs: string[];
}

/**
 * Moves one generation out of sight: a trash record (its packs and the time) is written first,
 * then the manifest is deleted, so a crash in between leaves the generation listed, never a
 * generation whose data might be collected. `gc` frees the data after the grace period. `packs`:
 * the manifest's, when the caller has read them already.
 */
export async function deleteGeneration(
  store: ObjectStore,
  model: string,
  generation: string,
  signal?: AbortSignal,
  packs: string[] | undefined = undefined,
): Promise<void> {
  const key = manifestKey(model, generation);
  packs ??= await readPacks(store, key, signal);
  const record: TrashRecord = { format: 'ckpt-trash/1', deletedAt: new Date().toISOString(), packs };
  const body = Buffer.from(JSON.stringify(record));
  await store.put(trashKey(model, generation), body, { size: body.length, signal });
  await store.delete(key, { signal });
}

/** The pack list of the manifest at `key`; none when it cannot be read as JSON. */
async function readPacks(store: ObjectStore, key: string, signal?: AbortSignal): Promise<string[]> {
  const got = await store.get(key, { signal });
  const text = (await readAll(got.body, MAX_MANIFEST_BYTES, key)).toString('utf8');
  try {
    const parsed = JSON.parse(text) as { packs?: unknown };
    if (Array.isArray(parsed.packs)) return parsed.packs.filter((p): p is string => typeof p === 'string');
  } catch {
    // an unreadable manifest references nothing we can name: its packs age out like orphans
  }
  return [];
}

/** Deletes one generation, or every generation of a model (and its llmux 0.7 objects) with `all`. */
export async function deleteCheckpoint(
  store: ObjectStore,
  model: string,
  options: DeleteOptions = {},
): Promise<DeleteResult> {
  validateModel(model);
  if ((options.generation === undefined) === !options.all) {
    throw new StoreError('InvalidArgument', 'name one generation, or say all to delete every generation', {
      operation: 'delete',
      key: model,
    });
  }
  const { signal } = options;
  const listed = await listModel(store, model, signal);
  const all = listed.generations;
  let targets: string[];
  if (options.generation !== undefined) {
    const generation = validateGeneration(options.generation);
    if (!all.includes(generation)) {
      throw new StoreError('NotFound', `no generation ${generation} of model ${model}`, {
        operation: 'delete',
        key: model,
      });
    }
    targets = [generation];
  } else targets = all;
  const legacy = options.generation === undefined ? await legacyObjects(store, model, signal) : [];
  if (targets.length === 0 && legacy.length === 0) {
    throw new StoreError('NotFound', 'no checkpoint of this model in the store', {
      operation: 'delete',
      key: model,
    });
  }
  const removed = legacy.length ? [...targets, 'legacy'] : targets;
  if (options.dryRun) return { model, generations: removed };
  for (const generation of targets) {
    throwIfAborted(signal, 'delete', model);
    await deleteGeneration(store, model, generation, signal);
  }
  const gone = new Set(targets);
  const summaries = listed.summaries.filter((s) => gone.has(s.generation) || !all.includes(s.generation));
  const keys = [...summaries.map((s) => s.key), ...legacy.map((o) => o.key)];
  if (keys.length) {
    const { errors } = await store.deleteMany(keys, { signal });
    if (errors.length) throw errors[0]!.error;
  }
  return { model, generations: removed };
}
