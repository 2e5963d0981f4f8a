import { z } from 'zod';
import { type EncryptionParams, encryptionShape } from '../crypto/key-hierarchy.js';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { type ChunkingOptions, chunkParams } from './chunking/index.js';
import { STORE_RECORD } from './layout.js';
import { readJsonRecord } from './stored-generations.js';

/**
 * The newest store format this ckpt reads. A change an older ckpt would misread raises it, so
 * that older ckpts refuse the store; fields an older ckpt may safely ignore can be added without
 * raising it. Format 2 is an encrypted store (its record has `encryption`), format 1 a plain one:
 * plain stores keep format 1, so ckpts older than encryption still read them.
 */
export const STORE_FORMAT = 2;
const ENCRYPTED_FORMAT = 2;
const PLAIN_FORMAT = 1;

/** What a store says about itself (`ckpt/store.json`), written once by its first push. */
export interface StoreRecord {
  format: `ckpt-store/${number}`;
  /** When the record was written (the writer's clock). */
  createdAt: string;
  /** How every push to the store chunks files: chunks deduplicate only when these match. */
  chunking: ChunkingOptions;
  /** Present exactly in an encrypted store (format 2): see `key-hierarchy.ts`. */
  encryption?: EncryptionParams;
}

const size = z.number().int().positive();
const chunkingShape = z.object({ minSize: size, avgSize: size, maxSize: size, zeroRunMin: size });
const recordShape = z.discriminatedUnion('format', [
  z.object({
    format: z.literal(`ckpt-store/${PLAIN_FORMAT}`),
    createdAt: z.string(),
    chunking: chunkingShape,
  }),
  z.object({
    format: z.literal(`ckpt-store/${ENCRYPTED_FORMAT}`),
    createdAt: z.string(),
    chunking: chunkingShape,
    encryption: encryptionShape,
  }),
]);

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
  encryption?: EncryptionParams,
): Promise<StoreRecord> {
  const { minSize, avgSize, maxSize, zeroRunMin } = chunking;
  const record: StoreRecord = {
    format: `ckpt-store/${encryption ? ENCRYPTED_FORMAT : PLAIN_FORMAT}`,
    createdAt: new Date().toISOString(),
    chunking: { minSize, avgSize, maxSize, zeroRunMin },
    ...(encryption ? { encryption } : {}),
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
