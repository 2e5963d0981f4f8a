import { readAll } from '../body.js';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { MODELS, manifestKey, parseGenerationKey } from './layout.js';
import { decodeManifest, type Manifest } from './manifest.js';
import { isGenerationId } from './names.js';

/** Manifests larger than this are refused rather than read into memory. */
export const MAX_MANIFEST_BYTES = 256 * 1024 * 1024;

/** Committed generation ids of `model`, oldest first. */
export async function listGenerations(
  store: ObjectStore,
  model: string,
  signal?: AbortSignal,
): Promise<string[]> {
  const out: string[] = [];
  for await (const meta of store.list(`${MODELS}${model}/`, { signal })) {
    const parsed = parseGenerationKey(meta.key, MODELS);
    if (parsed && parsed.model === model && isGenerationId(parsed.generation)) out.push(parsed.generation);
  }
  return out.sort();
}

/** Every model with at least one committed generation, and its generation ids (oldest first). */
export async function listAllGenerations(
  store: ObjectStore,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const models = new Map<string, string[]>();
  for await (const meta of store.list(MODELS, { signal })) {
    const parsed = parseGenerationKey(meta.key, MODELS);
    if (!parsed || !isGenerationId(parsed.generation)) continue;
    const list = models.get(parsed.model) ?? [];
    list.push(parsed.generation);
    models.set(parsed.model, list);
  }
  for (const list of models.values()) list.sort();
  return models;
}

/** Reads and validates one manifest; `NotFound` when the generation does not exist. */
export async function readManifest(
  store: ObjectStore,
  model: string,
  generation: string,
  signal?: AbortSignal,
  key = manifestKey(model, generation),
): Promise<Manifest> {
  return (await readManifestBytes(store, model, generation, signal, key)).manifest;
}

/** {@link readManifest}, and the bytes it was decoded from (to keep them without encoding it again). */
export async function readManifestBytes(
  store: ObjectStore,
  model: string,
  generation: string,
  signal?: AbortSignal,
  key = manifestKey(model, generation),
): Promise<{ manifest: Manifest; bytes: Buffer }> {
  // the store's retries end once a body is returned: a body that breaks is read again here
  for (let attempt = 1; ; attempt++) {
    try {
      return await readManifestOnce(store, model, generation, key, signal);
    } catch (err) {
      if (attempt >= BODY_ATTEMPTS || !StoreError.is(err) || !err.retryable || signal?.aborted) throw err;
    }
  }
}

/** Reads of a manifest whose body breaks with a retryable error. */
const BODY_ATTEMPTS = 3;

async function readManifestOnce(
  store: ObjectStore,
  model: string,
  generation: string,
  key: string,
  signal?: AbortSignal,
): Promise<{ manifest: Manifest; bytes: Buffer }> {
  const got = await store.get(key, { signal }).catch((err) => {
    if (StoreError.is(err, 'NotFound')) {
      throw new StoreError('NotFound', `no generation ${generation} of model ${model}`, {
        operation: 'read manifest',
        key,
        cause: err,
      });
    }
    throw err;
  });
  if (got.size > MAX_MANIFEST_BYTES) {
    got.body.destroy();
    throw new StoreError('Integrity', `manifest is larger than ${MAX_MANIFEST_BYTES} bytes`, {
      operation: 'read manifest',
      key,
    });
  }
  const bytes = await readAll(got.body, MAX_MANIFEST_BYTES, key);
  return { manifest: decodeManifest(bytes, key, { model, generation }), bytes };
}

/** The latest committed manifest of `model`, or undefined when there is none. */
export async function latestManifest(store: ObjectStore, model: string, signal?: AbortSignal) {
  const generations = await listGenerations(store, model, signal);
  const latest = generations.at(-1);
  return latest ? readManifest(store, model, latest, signal) : undefined;
}
