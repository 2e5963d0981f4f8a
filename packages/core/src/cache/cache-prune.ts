import { lstat, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { ChunkCache } from './chunk-cache.js';

/** What a cache holds: its entries and their bytes, and the bound it is pruned to. */
export interface CacheStats {
  dir: string;
  entries: number;
  bytes: number;
  maxBytes: number;
}

/** What a prune removed, and what is left. */
export interface PruneResult extends CacheStats {
  removed: number;
  bytesFreed: number;
}

/** A writer's temp file older than this is one a killed process left. */
const ABANDONED_MS = 3600_000;
/** Fan-out folders an estimate of the cache's size looks at. */
const SAMPLED = 8;
/** From this many entries in the sample on, the estimate decides alone. */
const SAMPLE_ENOUGH = 256;
/**
 * From this many entries in the sample on (about 2,000 in the cache), an estimate below half the
 * bound is trusted too: what it scales is off by some 10-20 % (1/√64 of the count, and the
 * chunks' sizes), far from a factor of 2. Below, or closer to the bound, the cache is counted.
 */
const SAMPLE_FAR = 64;
/** A full cache is pruned to this share of its bound, so that the next operations need not prune again. */
const LOW_WATER = 0.9;

interface Entry {
  file: string;
  size: number;
  used: number;
}

const FANS = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** The entries of some fan-out folders; an entry or folder that vanishes meanwhile is skipped. */
async function entriesOf(cache: ChunkCache, fans: string[]): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const fan of fans) {
    const folder = path.join(cache.entries, fan);
    const names = await readdir(folder).catch(() => [] as string[]);
    const stats = await Promise.all(
      names.map((name) => lstat(path.join(folder, name)).catch(() => undefined)),
    );
    stats.forEach((st, i) => {
      if (st?.isFile()) out.push({ file: path.join(folder, names[i]!), size: st.size, used: st.mtimeMs });
    });
  }
  return out;
}

function totals(cache: ChunkCache, entries: Entry[]): CacheStats {
  return {
    dir: cache.dir,
    entries: entries.length,
    bytes: entries.reduce((sum, e) => sum + e.size, 0),
    maxBytes: cache.maxBytes,
  };
}

/** Counts the cache's entries and bytes (one `lstat` per entry). */
export async function cacheStats(cache: ChunkCache): Promise<CacheStats> {
  return totals(cache, await entriesOf(cache, FANS));
}

/**
 * Removes entries, least recently used first, until the cache holds at most `toBytes` (default:
 * its bound; `0` empties it), and the temp files of writers that died. Safe while other processes
 * read and write the cache: an entry removed under a reader is a miss for it, and one that vanished
 * before its turn is skipped.
 */
export async function pruneCache(cache: ChunkCache, toBytes = cache.maxBytes): Promise<PruneResult> {
  const entries = await entriesOf(cache, FANS);
  let { bytes } = totals(cache, entries);
  let removed = 0;
  let bytesFreed = 0;
  entries.sort((a, b) => a.used - b.used);
  for (const entry of entries) {
    if (bytes <= toBytes) break;
    await rm(entry.file, { force: true }).catch(() => undefined);
    bytes -= entry.size;
    bytesFreed += entry.size;
    removed++;
  }
  await removeAbandoned(cache, toBytes === 0 ? 0 : ABANDONED_MS);
  return {
    dir: cache.dir,
    entries: entries.length - removed,
    bytes,
    maxBytes: cache.maxBytes,
    removed,
    bytesFreed,
  };
}

/**
 * Prunes the cache to {@link LOW_WATER} of its bound when it holds more than its bound. Its size is
 * estimated from a sample of its fan-out folders (counted in full when the sample is too small to
 * tell), so that a pull or push pays for a full listing only when the cache is full or small.
 */
export async function pruneIfFull(cache: ChunkCache): Promise<PruneResult | undefined> {
  const start = Math.floor(Math.random() * FANS.length);
  const fans = Array.from({ length: SAMPLED }, (_, i) => FANS[(start + i) % FANS.length]!);
  const sample = await entriesOf(cache, fans);
  const scaled = (totals(cache, sample).bytes * FANS.length) / SAMPLED;
  const far = sample.length >= SAMPLE_FAR && scaled < cache.maxBytes / 2;
  const estimate = sample.length >= SAMPLE_ENOUGH || far ? scaled : (await cacheStats(cache)).bytes;
  if (estimate <= cache.maxBytes) return undefined;
  return pruneCache(cache, Math.floor(cache.maxBytes * LOW_WATER));
}

async function removeAbandoned(cache: ChunkCache, olderThanMs: number): Promise<void> {
  const names = await readdir(cache.temp).catch(() => [] as string[]);
  const now = Date.now();
  for (const name of names) {
    const file = path.join(cache.temp, name);
    const st = await lstat(file).catch(() => undefined);
    if (st && now - st.mtimeMs >= olderThanMs) await rm(file, { force: true }).catch(() => undefined);
  }
}
