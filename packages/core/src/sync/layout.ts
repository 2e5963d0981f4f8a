/**
 * Where things live in the store (relative to the store's root or prefix):
 *
 * ```text
 * ckpt/packs/<id:0-2>/<id>.pack        chunk data: chunks concatenated, no header (immutable)
 * ckpt/models/<model>/<generation>.json a committed generation's manifest (immutable)
 * ckpt/models/<model>/<generation>.<summary>.summary  empty: what `ls` shows of the latest (summary-keys.ts)
 * ckpt/trash/<model>/<generation>.json  a removed generation, kept for the grace period
 * ckpt/pushes/<push id>.json           a push in flight: its base generations, renewed while it runs
 * ckpt/clock/<random>                   written and removed by gc to read the store's clock
 * ckpt/sweeps/<random>.json            packs a gc in progress is about to delete
 * ckpt/store.json                      the store's record: format version, chunking parameters
 * <model>/images/<file>                 a llmux 0.7 checkpoint (read-only support)
 * ```
 *
 * A model is `name` or `org/name`, so `<model>` is one or two key segments. The last segment of
 * a manifest or trash key is always the generation's file name and no model segment can look like
 * one (see `names.ts`): a key's segment count tells `a`'s generations from `a/b`'s, and
 * listing `ckpt/models/a/` (which also yields `a/b`'s keys) keeps only keys whose model is `a`.
 */
export const ROOT = 'ckpt';
export const PACKS = `${ROOT}/packs/`;
export const MODELS = `${ROOT}/models/`;
export const TRASH = `${ROOT}/trash/`;
export const PUSHES = `${ROOT}/pushes/`;
export const CLOCK = `${ROOT}/clock/`;
export const SWEEPS = `${ROOT}/sweeps/`;
/** The store's record (store-record.ts): outside every prefix the engine lists. */
export const STORE_RECORD = `${ROOT}/store.json`;

export function packKey(id: string): string {
  return `${PACKS}${id.slice(0, 2)}/${id}.pack`;
}

/** The pack id of a pack key, or undefined for any other key. */
export function packIdOf(key: string): string | undefined {
  return /^ckpt\/packs\/[0-9a-f]{2}\/([0-9a-f]{32})\.pack$/.exec(key)?.[1];
}

export function manifestKey(model: string, generation: string): string {
  return `${MODELS}${model}/${generation}.json`;
}

export function trashKey(model: string, generation: string): string {
  return `${TRASH}${model}/${generation}.json`;
}

/**
 * `{model, generation}` of a manifest or trash key (`base` is MODELS or TRASH): the last segment is
 * `<generation>.json`, the one or two segments before it the model. Undefined for any other key.
 */
export function parseGenerationKey(
  key: string,
  base: string,
): { model: string; generation: string } | undefined {
  if (!key.startsWith(base)) return undefined;
  const m = /^([^/]+(?:\/[^/]+)?)\/([^/]+)\.json$/.exec(key.slice(base.length));
  return m ? { model: m[1]!, generation: m[2]! } : undefined;
}

export function pushKey(id: string): string {
  return `${PUSHES}${id}.json`;
}

/** The push id of a push record key, or undefined for any other key. */
export function pushIdOf(key: string): string | undefined {
  return /^ckpt\/pushes\/([0-9a-f]{32})\.json$/.exec(key)?.[1];
}

/** Where a llmux 0.7 checkpoint of `model` keeps its files, one object per file, none nested. */
export function legacyPrefix(model: string): string {
  return `${model}/images/`;
}
