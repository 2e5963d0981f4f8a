import { readAll } from '../body.js';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { MODELS, manifestKey, parseGenerationKey } from './layout.js';
import {
  decodeManifest,
  LEAD_METADATA,
  MAX_HEAD_BYTES,
  type Manifest,
  ManifestDigest,
  type ManifestHead,
  type ManifestLead,
  type ManifestSummary,
  manifestTotals,
  parseManifestHead,
  parseTaggedLead,
} from './manifest.js';
import { generationTime, isGenerationId, validateGeneration } from './names.js';
import { parseSummaryKey, type SummaryKey } from './summary-keys.js';
import type { GenerationInfo } from './types.js';

/** What `ls` shows of a generation, from its manifest's lead. */
export function generationInfo(lead: ManifestLead): GenerationInfo {
  const { model, generation, createdAt, labels, summary } = lead;
  return {
    model,
    generation,
    createdAt: Number.isNaN(Date.parse(createdAt)) ? generationTime(generation) : new Date(createdAt),
    files: summary.files,
    bytes: summary.bytes,
    storedBytes: summary.storedBytes,
    ...(summary.addedBytes === undefined ? {} : { addedBytes: summary.addedBytes }),
    labels,
    legacy: false,
  };
}

/** Manifests larger than this are refused rather than read into memory. */
export const MAX_MANIFEST_BYTES = 128 * 1024 * 1024;

/** What a listing holds of one model: its committed generations, oldest first, and the summary keys beside them. */
export interface ListedModel {
  generations: string[];
  /** Every summary key of the model (summary-keys.ts), those of generations no longer listed included. */
  summaries: SummaryKey[];
}

/** Committed generation ids of `model`, oldest first. */
export async function listGenerations(
  store: ObjectStore,
  model: string,
  signal?: AbortSignal,
): Promise<string[]> {
  return (await listModel(store, model, signal)).generations;
}

/** Every model with at least one committed generation, and its generation ids (oldest first). */
export async function listAllGenerations(
  store: ObjectStore,
  signal?: AbortSignal,
): Promise<Map<string, string[]>> {
  const models = new Map<string, string[]>();
  for (const [model, listed] of await listAllModels(store, signal))
    if (listed.generations.length) models.set(model, listed.generations);
  return models;
}

/** {@link ListedModel} of `model`: one listing of its keys. */
export async function listModel(
  store: ObjectStore,
  model: string,
  signal?: AbortSignal,
): Promise<ListedModel> {
  return (
    (await listModels(store, `${MODELS}${model}/`, signal)).get(model) ?? { generations: [], summaries: [] }
  );
}

/** {@link ListedModel} of every model with a generation or a summary key: one listing of every model's keys. */
export function listAllModels(store: ObjectStore, signal?: AbortSignal): Promise<Map<string, ListedModel>> {
  return listModels(store, MODELS, signal);
}

async function listModels(
  store: ObjectStore,
  prefix: string,
  signal?: AbortSignal,
): Promise<Map<string, ListedModel>> {
  const models = new Map<string, ListedModel>();
  const of = (model: string) => {
    const listed = models.get(model) ?? { generations: [], summaries: [] };
    models.set(model, listed);
    return listed;
  };
  for await (const meta of store.list(prefix, { signal })) {
    const parsed = parseGenerationKey(meta.key, MODELS);
    if (parsed && isGenerationId(parsed.generation)) of(parsed.model).generations.push(parsed.generation);
    const summary = parsed ? undefined : parseSummaryKey(meta.key);
    if (summary) of(summary.model).summaries.push(summary);
  }
  for (const listed of models.values()) listed.generations.sort();
  return models;
}

/** What the summary key of `generation` says, when the listing holds a readable one. */
export function listedSummary(listed: ListedModel, generation: string): GenerationInfo | undefined {
  return listed.summaries.find((s) => s.generation === generation && s.info)?.info;
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
  return withBodyRetries(signal, async () => {
    const got = await getManifest(store, model, generation, key, signal);
    const bytes = await readAll(got.body, MAX_MANIFEST_BYTES, key);
    return { manifest: decodeManifest(bytes, key, { model, generation }), bytes };
  });
}

/**
 * The head of a manifest (everything before its chunk table: labels, summary, packs) without
 * holding or parsing the rest: the whole text streams through its checksum, only its first
 * bytes are kept. A manifest in another layout, or without a summary, is read whole instead.
 */
export async function readManifestHead(
  store: ObjectStore,
  model: string,
  generation: string,
  signal?: AbortSignal,
): Promise<ManifestHead & { summary: ManifestSummary }> {
  const key = manifestKey(model, generation);
  const head = await withBodyRetries(signal, async () => {
    const got = await getManifest(store, model, generation, key, signal);
    const digest = new ManifestDigest();
    const first: Buffer[] = [];
    let kept = 0;
    for await (const piece of got.body as AsyncIterable<Buffer>) {
      digest.update(piece);
      if (kept < MAX_HEAD_BYTES) {
        first.push(piece.subarray(0, MAX_HEAD_BYTES - kept));
        kept += first.at(-1)!.length;
      }
    }
    const head = parseManifestHead(Buffer.concat(first), key);
    return head && digest.verified() ? head : undefined;
  });
  if (head?.summary && head.model === model && head.generation === generation)
    return { ...head, summary: head.summary };
  const whole = await readManifest(store, model, generation, signal);
  const { chunks: _c, entries: _e, checksum: _s, ...rest } = whole;
  return { ...rest, summary: manifestTotals(whole) };
}

/** Bytes of a manifest's first ranged read: a lead (labels included) fits in them, but for long labels. */
const LEAD_READ_BYTES = 4096;

/**
 * What `ls` and `exists` need of a generation (its manifest's lead: labels, summary), from a
 * ranged read of the manifest's first bytes checked against the digest it was stored with
 * (`ckpt-lead` metadata), so the cost does not grow with the checkpoint's chunks or packs; a lead
 * longer than the first read (long labels) takes a second one of its exact length. A store
 * without metadata or ranged reads, a manifest stored without the digest (older ckpt), a lead
 * that does not match its digest: {@link readManifestHead} (the whole text streamed through its
 * checksum), which fails with `Integrity` when the manifest is damaged.
 */
export async function readManifestLead(
  store: ObjectStore,
  model: string,
  generation: string,
  signal?: AbortSignal,
): Promise<ManifestLead> {
  const { metadata, rangedRead } = store.capabilities;
  if (metadata && rangedRead) {
    const key = manifestKey(model, generation);
    const readLead = (length: number) =>
      withBodyRetries(signal, async () => {
        const got = await getManifest(store, model, generation, key, signal, length);
        const tag = got.metadata?.[LEAD_METADATA];
        if (tag === undefined) {
          got.body.destroy();
          return undefined;
        }
        const first = await readAll(got.body, length, key);
        return { tag, lead: parseTaggedLead(first, tag, key) };
      });
    let read = await readLead(LEAD_READ_BYTES);
    const length = Number(/^\d+/.exec(read?.tag ?? '')?.[0]);
    if (read && !read.lead && length > LEAD_READ_BYTES && length <= MAX_HEAD_BYTES)
      read = await readLead(length);
    const lead = read?.lead;
    if (lead?.model === model && lead.generation === generation) return lead;
  }
  const { packs: _packs, ...lead } = await readManifestHead(store, model, generation, signal);
  return lead;
}

/**
 * The JSON object stored at `key` (at most `maxBytes`): null when the object is gone, undefined
 * when it is no JSON object. The small records beside the manifests (trash, push leases) are read so.
 */
export async function readJsonRecord(
  store: ObjectStore,
  key: string,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<unknown> {
  let text: string;
  try {
    text = (await readAll((await store.get(key, { signal })).body, maxBytes, key)).toString('utf8');
  } catch (err) {
    if (StoreError.is(err, 'NotFound')) return null;
    throw err;
  }
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Reads of a manifest whose body breaks with a retryable error. */
const BODY_ATTEMPTS = 3;

/** Runs `read` again when the body it reads breaks with a retryable error (the store's retries end once a body is returned). */
async function withBodyRetries<T>(signal: AbortSignal | undefined, read: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (attempt >= BODY_ATTEMPTS || !StoreError.is(err) || !err.retryable || signal?.aborted) throw err;
    }
  }
}

/** The manifest's object (its first `length` bytes), its size checked against the limit before any byte is read. */
async function getManifest(
  store: ObjectStore,
  model: string,
  generation: string,
  key: string,
  signal?: AbortSignal,
  length?: number,
) {
  const range = length === undefined ? {} : { range: { offset: 0, length } };
  const got = await store.get(key, { signal, ...range }).catch((err) => {
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
  return got;
}

/** `generation` (validated), else the latest generation of `model`; `NotFound` when it has none. */
export async function chosenGeneration(
  store: ObjectStore,
  model: string,
  generation: string | undefined,
  operation: string,
  signal?: AbortSignal,
): Promise<string> {
  if (generation !== undefined) return validateGeneration(generation);
  const latest = (await listGenerations(store, model, signal)).at(-1);
  if (latest === undefined) {
    throw new StoreError('NotFound', 'no checkpoint of this model in the store', { operation, key: model });
  }
  return latest;
}
