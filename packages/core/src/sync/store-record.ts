import { z } from 'zod';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { type ChunkingOptions, chunkParams } from './chunking/index.js';
import { STORE_RECORD } from './layout.js';
import { readJsonRecord } from './stored-generations.js';

/**
 * The store format this ckpt writes, and the newest it reads. A change an older ckpt would
 * misread (encryption: its `encryption` parameters) raises it, so that older ckpts refuse the
 * store; fields an older ckpt may safely ignore can be added without raising it.
 */
export const STORE_FORMAT = 1;

/** What a store says about itself (`ckpt/store.json`), written once by its first push. */
export interface StoreRecord {
  format: `ckpt-store/${number}`;
  /** When the record was written (the writer's clock). */
  createdAt: string;
  /** How every push to the store chunks files: chunks deduplicate only when these match. */
  chunking: ChunkingOptions;
}

const size = z.number().int().positive();
const recordShape = z.object({
  format: z.literal(`ckpt-store/${STORE_FORMAT}`),
  createdAt: z.string(),
  chunking: z.object({ minSize: size, avgSize: size, maxSize: size, zeroRunMin: size }),
});

/** The operation named by errors about the record (the CLI exits 6 on its `Unsupported`). */
const OPEN = 'open store';
/** Larger than any record ckpt writes. */
const MAX_RECORD_BYTES = 64 * 1024;

/**
 * The store's record, or undefined for a store without one (written before stores had records).
 * A record of a newer format fails with `Unsupported`, one that cannot be read as a record with
 * `Integrity`: either way nothing else of the store is read or written.
 */
export async function readStoreRecord(
  store: ObjectStore,
  signal?: AbortSignal,
): Promise<StoreRecord | undefined> {
  const json = await readJsonRecord(store, STORE_RECORD, MAX_RECORD_BYTES, signal).catch((err) => {
    if (StoreError.is(err, 'Integrity')) throw damaged(`larger than ${MAX_RECORD_BYTES} bytes`);
    throw err;
  });
  if (json === null) return undefined;
  if (json === undefined) throw damaged('not a JSON object');
  const format = (json as { format?: unknown }).format;
  const version =
    typeof format === 'string' ? /^ckpt-store\/([1-9][0-9]{0,8})$/.exec(format)?.[1] : undefined;
  if (version === undefined) throw damaged('no store format named');
  if (Number(version) > STORE_FORMAT) {
    throw new StoreError(
      'Unsupported',
      `the store was written by a newer ckpt (store format ${version}; this ckpt reads up to ${STORE_FORMAT}): upgrade ckpt`,
      { operation: OPEN, key: STORE_RECORD },
    );
  }
  const parsed = recordShape.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw damaged(`${issue.path.join('.') || 'record'}: ${issue.message}`);
  }
  try {
    chunkParams(parsed.data.chunking);
  } catch (err) {
    throw damaged((err as Error).message);
  }
  return parsed.data as StoreRecord;
}

/**
 * The record of a store that had none, written once: with `chunking` when this call writes it,
 * else (another writer was first) the other writer's. Where the store cannot enforce create-only
 * puts the record is written only while absent and read back, so racing writers settle on the
 * last one written before either reads it back.
 */
export async function createStoreRecord(
  store: ObjectStore,
  chunking: ChunkingOptions,
  signal?: AbortSignal,
): Promise<StoreRecord> {
  const { minSize, avgSize, maxSize, zeroRunMin } = chunking;
  const record: StoreRecord = {
    format: `ckpt-store/${STORE_FORMAT}`,
    createdAt: new Date().toISOString(),
    chunking: { minSize, avgSize, maxSize, zeroRunMin },
  };
  const body = Buffer.from(`${JSON.stringify(record)}\n`);
  if (store.capabilities.conditionalCreate) {
    try {
      await store.put(STORE_RECORD, body, { size: body.length, mode: 'create', signal });
      return record;
    } catch (err) {
      if (!StoreError.is(err, 'AlreadyExists')) throw err;
    }
  } else if ((await readStoreRecord(store, signal)) === undefined) {
    await store.put(STORE_RECORD, body, { size: body.length, signal });
  }
  const stored = await readStoreRecord(store, signal);
  if (!stored) throw damaged('removed while it was being written');
  return stored;
}

/** True when two sets of chunking parameters cut files alike. */
export function sameChunking(a: ChunkingOptions, b: ChunkingOptions): boolean {
  return (
    a.minSize === b.minSize &&
    a.avgSize === b.avgSize &&
    a.maxSize === b.maxSize &&
    a.zeroRunMin === b.zeroRunMin
  );
}

function damaged(detail: string): StoreError {
  return new StoreError('Integrity', `the store's record is damaged: ${detail}`, {
    operation: OPEN,
    key: STORE_RECORD,
  });
}
