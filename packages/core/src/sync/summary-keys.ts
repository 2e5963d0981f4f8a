import { z } from 'zod';
import type { ObjectStore } from '../store.js';
import { MODELS } from './layout.js';
import type { GenerationInfo } from './types.js';

/**
 * A model's latest generation's listing summary (what `ls` shows of it) carried in the name of an
 * empty object beside its manifest, `ckpt/models/<model>/<generation>.<payload>.summary`, so that
 * a listing of the models tells every model's latest files, sizes and labels without reading one
 * manifest: `ls` of a thousand models costs the listing's pages instead of a thousand reads. The
 * payload is the base64url of a JSON array `[1, createdAt ms, files, bytes, storedBytes,
 * addedBytes | null, labels]`; its first element is the payload's version (others are ignored).
 *
 * A push writes the key after the manifest, so it only ever describes a committed generation,
 * and then removes the keys of the model's older generations: `ls` needs the latest's alone, and
 * every key is one more that each listing of the models pages through. A key is a hint: a reader
 * uses it only for a generation whose manifest the same listing holds, falls back to the
 * manifest's lead when there is none (older generations, a push whose key was not written), and
 * `gc` removes those of generations that are not their model's latest. A generation whose payload
 * would make the key's last segment longer than a file name may be gets none (long labels), nor
 * does any generation of an encrypted store, whose key names anyone reading the store sees.
 */
const SUFFIX = '.summary';
/** 26 characters of generation id, a dot and the suffix: the last segment stays a valid file name (255 bytes). */
const MAX_PAYLOAD = 200;
const KEY = /^([^/]+(?:\/[^/]+)?)\/(\d{8}T\d{9}Z-[0-9a-f]{8})\.([A-Za-z0-9_-]+)\.summary$/;

const count = z.number().int().nonnegative();
const payload = z.tuple([
  z.literal(1),
  count,
  count,
  count,
  count,
  count.nullable(),
  z.record(z.string(), z.string()),
]);

/** The summary key of `info`'s generation, or undefined when its payload is too long for one. */
export function summaryKey(info: GenerationInfo): string | undefined {
  const value: z.infer<typeof payload> = [
    1,
    info.createdAt.getTime(),
    info.files,
    info.bytes,
    info.storedBytes,
    info.addedBytes ?? null,
    info.labels,
  ];
  const encoded = Buffer.from(JSON.stringify(value)).toString('base64url');
  if (encoded.length > MAX_PAYLOAD) return undefined;
  return `${MODELS}${info.model}/${info.generation}.${encoded}${SUFFIX}`;
}

/** A summary key found in a listing: its generation, and what it says (undefined when it cannot be read: another version). */
export interface SummaryKey {
  key: string;
  model: string;
  generation: string;
  info: GenerationInfo | undefined;
}

/** `key` as a summary key, or undefined for any other key. */
export function parseSummaryKey(key: string): SummaryKey | undefined {
  if (!key.startsWith(MODELS) || !key.endsWith(SUFFIX)) return undefined;
  const match = KEY.exec(key.slice(MODELS.length));
  if (!match) return undefined;
  const [, model, generation, encoded] = match as unknown as [string, string, string, string];
  return { key, model, generation, info: decode(model, generation, encoded) };
}

function decode(model: string, generation: string, encoded: string): GenerationInfo | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  const parsed = payload.safeParse(value);
  if (!parsed.success) return undefined;
  const [, createdAt, files, bytes, storedBytes, addedBytes, labels] = parsed.data;
  return {
    model,
    generation,
    createdAt: new Date(createdAt),
    files,
    bytes,
    storedBytes,
    ...(addedBytes === null ? {} : { addedBytes }),
    labels,
    legacy: false,
  };
}

/**
 * Writes the summary key of a generation just committed, then removes `older` (the model's keys
 * the push's last listing held, all of generations before this one). A failure is not the
 * push's: the generation is committed, and without its key `ls` reads the manifest's lead instead.
 */
export async function writeSummaryKey(
  store: ObjectStore,
  info: GenerationInfo,
  older: readonly SummaryKey[],
  signal?: AbortSignal,
): Promise<void> {
  const key = summaryKey(info);
  if (key) await store.put(key, Buffer.alloc(0), { size: 0, signal }).catch(() => undefined);
  if (older.length)
    await store
      .deleteMany(
        older.map((s) => s.key),
        { signal },
      )
      .catch(() => undefined);
}
