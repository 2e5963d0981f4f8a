import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { SWEEPS } from './layout.js';
import { readJsonRecord } from './stored-generations.js';

/**
 * A sweep record (`ckpt/sweeps/<id>.json`) names the packs a gc is about to delete, written
 * before it reads the leases of pushes in flight for the last time and removed once it is done.
 * A push that resumes packs an earlier push stored reads them after taking its lease: a pack
 * one names may be deleted at any moment, so it is not reused (gc.ts has the whole argument).
 */
interface SweepRecord {
  format: 'ckpt-sweep/1';
  packs: string[];
}

/** Larger than any record ckpt writes. */
const MAX_SWEEP_BYTES = 64 * 1024 * 1024;

/** Packs one sweep record names at most (about 3.5 MB), well within what a reader reads. */
const PACKS_PER_RECORD = 100_000;

/** Writes the sweep records naming `packs` and returns their keys. */
export async function writeSweepRecords(
  store: ObjectStore,
  packs: string[],
  signal?: AbortSignal,
): Promise<string[]> {
  const keys: string[] = [];
  for (let at = 0; at < packs.length; at += PACKS_PER_RECORD) {
    const key = `${SWEEPS}${randomBytes(16).toString('hex')}.json`;
    const record: SweepRecord = { format: 'ckpt-sweep/1', packs: packs.slice(at, at + PACKS_PER_RECORD) };
    const body = Buffer.from(JSON.stringify(record));
    await store.put(key, body, { size: body.length, signal });
    keys.push(key);
  }
  return keys;
}

/** The keys of the sweep records in the store now. */
export async function listSweepRecords(store: ObjectStore, signal?: AbortSignal): Promise<string[]> {
  const keys: string[] = [];
  for await (const meta of store.list(SWEEPS, { signal }))
    if (meta.key.endsWith('.json')) keys.push(meta.key);
  return keys;
}

/** The packs a sweep record names; null when it is gone, undefined when it cannot be read as one. */
export async function readSweepRecord(
  store: ObjectStore,
  key: string,
  signal?: AbortSignal,
): Promise<string[] | null | undefined> {
  const json = (await readJsonRecord(store, key, MAX_SWEEP_BYTES, signal).catch((err) => {
    if (StoreError.is(err, 'Integrity')) return undefined;
    throw err;
  })) as Partial<SweepRecord> | null | undefined;
  if (json === null) return null;
  if (json?.format !== 'ckpt-sweep/1' || !Array.isArray(json.packs)) return undefined;
  return json.packs.filter((id): id is string => typeof id === 'string');
}

/**
 * Every pack a gc in progress may delete; undefined when a sweep record cannot be read (then any
 * pack may be).
 */
export async function sweptPacks(store: ObjectStore, signal?: AbortSignal): Promise<Set<string> | undefined> {
  const swept = new Set<string>();
  for (const key of await listSweepRecords(store, signal)) {
    const packs = await readSweepRecord(store, key, signal);
    if (packs === undefined) return undefined;
    for (const id of packs ?? []) swept.add(id);
  }
  return swept;
}
