import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { readAll } from '../body.js';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { ChunkTable } from './chunk-table.js';
import { type IntactCheck, ReusableChunks, type StoredChunks } from './chunk-table-builder.js';
import { packKey } from './layout.js';
import type { Manifest } from './manifest.js';
import type { JournaledPack } from './push-journal.js';
import { sweptPacks } from './sweep-records.js';

/**
 * The journaled packs (push-journal.ts) a push may reuse: those no gc in progress is about to
 * delete (sweep-records.ts) and that the store holds with their size and version token (a pack
 * replaced since it was stored is uploaded again). A pack the store had not confirmed when the
 * push died has no token in the journal: it is read back, one at a time, and reused only when
 * every chunk matches its hash (it costs a download of the packs that were in flight at the
 * kill and landed). Call it only once the push's lease names them all: then no gc that starts
 * later deletes them (gc.ts), and one that started earlier has said so in a sweep record. The
 * packs come back with their version tokens, with the bytes read back.
 */
export async function resumablePacks(
  store: ObjectStore,
  journaled: JournaledPack[],
  concurrency: number,
  signal?: AbortSignal,
): Promise<{ packs: JournaledPack[]; bytesRead: number }> {
  const none = { packs: [], bytesRead: 0 };
  if (journaled.length === 0) return none;
  const swept = await sweptPacks(store, signal);
  if (!swept) return none;
  let bytesRead = 0;
  const heads = pLimit(Math.max(4, concurrency * 2));
  const reads = pLimit(1);
  const found = await Promise.all(
    journaled.map(async (pack) => {
      if (swept.has(pack.id)) return undefined;
      const meta = await heads(() => store.head(packKey(pack.id), { signal })).catch((err) => {
        if (StoreError.is(err, 'NotFound')) return undefined;
        throw err;
      });
      if (meta?.size !== pack.size) return undefined;
      if (pack.version !== undefined) return meta.version === pack.version ? pack : undefined;
      bytesRead += pack.size;
      const version = await reads(() => readBack(store, pack, signal));
      return version === undefined ? undefined : { ...pack, version };
    }),
  );
  return { packs: found.filter((pack) => pack !== undefined), bytesRead };
}

/** The version token of the pack's object when its every chunk matches its hash; undefined otherwise. */
async function readBack(
  store: ObjectStore,
  pack: JournaledPack,
  signal?: AbortSignal,
): Promise<string | undefined> {
  const key = packKey(pack.id);
  const got = await store.get(key, { signal }).catch((err) => {
    if (StoreError.is(err, 'NotFound')) return undefined;
    throw err;
  });
  if (!got) return undefined;
  const bytes = await readAll(got.body, pack.size, key).catch((err) => {
    if (StoreError.is(err, 'Integrity')) return undefined;
    throw err;
  });
  if (bytes?.length !== pack.size) return undefined;
  const { chunks } = pack;
  for (let i = 0; i < chunks.count; i++) {
    const at = chunks.offsetOf(i);
    const hash = createHash('sha256')
      .update(bytes.subarray(at, at + chunks.lengthOf(i)))
      .digest('hex');
    if (hash !== chunks.hashOf(i)) return undefined;
  }
  return got.version;
}

/**
 * The chunks a push may reuse: those of its bases that `intact` vouches for, then those of the
 * resumed packs (checked by {@link resumablePacks}).
 */
export function reusableWithResumed(
  bases: (Manifest | undefined)[],
  intact: IntactCheck,
  resumed: JournaledPack[],
): ReusableChunks {
  const ids = new Set(resumed.map((p) => p.id));
  return new ReusableChunks(
    [...bases, resumedChunks(resumed)],
    (packId, offset, length) => ids.has(packId) || intact(packId, offset, length),
  );
}

/** The chunks of `packs` as one table to look chunks up in, as a manifest's. */
function resumedChunks(packs: JournaledPack[]): StoredChunks {
  const chunks = ChunkTable.empty();
  for (const [index, pack] of packs.entries()) {
    for (let i = 0; i < pack.chunks.count; i++) {
      const hash = pack.chunks.hashOf(i);
      if (chunks.indexOf(hash) === undefined)
        chunks.push(hash, index, pack.chunks.offsetOf(i), pack.chunks.lengthOf(i));
    }
  }
  return { packs: packs.map((p) => p.id), chunks };
}
