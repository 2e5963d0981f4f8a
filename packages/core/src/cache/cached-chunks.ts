import { open } from 'node:fs/promises';
import { throwIfAborted } from '../errors.js';
import type { FileWorkers } from '../sync/chunking/index.js';
import { READ_FLAGS } from '../sync/local-source.js';
import type { Manifest } from '../sync/manifest.js';
import { eachLimited } from '../sync/run-all.js';
import { eachSliced } from '../sync/sync-fs-batches.js';
import type { ChunkCache } from './chunk-cache.js';

/** Bytes of entries read into one buffer and hashed in one worker task. */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches read at once. */
const BATCHES_AT_ONCE = 4;

/**
 * The chunks among `candidates` (indexes into `manifest`) not yet `planned` whose entry the cache
 * holds with the right length; each is added to `planned`. One `lstat` per candidate.
 */
export async function planCachedChunks(
  cache: ChunkCache,
  manifest: Manifest,
  candidates: Iterable<number>,
  planned: Set<number>,
): Promise<number[]> {
  const found: number[] = [];
  await eachSliced(candidates, (index) => {
    if (planned.has(index)) return;
    if (!cache.holds(manifest.chunks.hashOf(index), manifest.chunks.lengthOf(index))) return;
    planned.add(index);
    found.push(index);
  });
  return found;
}

/**
 * Reads the cache's entries of chunks `indices` of `manifest`, a batch of about 4 MiB at a time,
 * checks each one's SHA-256 on a worker, hands the matching ones to `deliver` (their bytes are
 * valid until it resolves) and marks their entries used. An entry that is missing, short or does
 * not match is left out (to be downloaded) and removed, so the download that follows replaces it.
 * Returns the indexes delivered.
 */
export async function copyCachedChunks(
  cache: ChunkCache,
  manifest: Manifest,
  indices: number[],
  options: {
    hash: FileWorkers['hash'];
    deliver: (chunks: { index: number; data: Buffer }[]) => Promise<void>;
    signal?: AbortSignal;
  },
): Promise<Set<number>> {
  const rows = manifest.chunks;
  const batches: { index: number; offset: number; length: number }[][] = [];
  let bytes = Number.POSITIVE_INFINITY;
  for (const index of indices) {
    const length = rows.lengthOf(index);
    if (bytes + length > BATCH_BYTES) {
      batches.push([]);
      bytes = 0;
    }
    batches.at(-1)!.push({ index, offset: bytes, length });
    bytes += length;
  }
  const done = new Set<number>();
  const arenas: SharedArrayBuffer[] = [];
  await eachLimited(batches, BATCHES_AT_ONCE, async (batch) => {
    throwIfAborted(options.signal, 'pull', cache.dir);
    const size = batch.at(-1)!.offset + batch.at(-1)!.length;
    let arena = arenas.pop() ?? new SharedArrayBuffer(BATCH_BYTES);
    if (arena.byteLength < size) arena = new SharedArrayBuffer(size);
    const view = new Uint8Array(arena);
    const read = await Promise.all(
      batch.map(async (chunk) => {
        const file = cache.entryPath(rows.hashOf(chunk.index));
        const handle = await open(file, READ_FLAGS).catch(() => undefined);
        if (!handle) return false;
        try {
          const { bytesRead } = await handle.read(view, chunk.offset, chunk.length, 0);
          return bytesRead === chunk.length;
        } catch {
          return false;
        } finally {
          await handle.close();
        }
      }),
    );
    const whole = batch.filter((_, k) => read[k]);
    const hashed = await options.hash(arena, whole);
    const good = whole.filter((chunk, k) => hashed.hashes[k] === rows.hashOf(chunk.index));
    await options.deliver(
      good.map((chunk) => ({
        index: chunk.index,
        data: Buffer.from(hashed.buffer, chunk.offset, chunk.length),
      })),
    );
    arenas.push(hashed.buffer);
    for (const chunk of good) done.add(chunk.index);
    await Promise.all(
      batch.map((chunk) => {
        const key = rows.hashOf(chunk.index);
        return done.has(chunk.index) ? cache.touch(key) : cache.discard(key);
      }),
    );
  });
  return done;
}
