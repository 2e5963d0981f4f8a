/**
 * The thread behind `CacheWriter` (cache-writer.ts): writes a batch of cache entries from shared
 * memory (`ChunkCache.putSync` each) and answers how many are there afterwards.
 */
import { parentPort } from 'node:worker_threads';
import type { CacheWriteReply, CacheWriteRequest } from './cache-writer.js';
import { ChunkCache } from './chunk-cache.js';

/** One per cache folder, so that each knows the fan-out folders it made. */
const caches = new Map<string, ChunkCache>();

parentPort?.on('message', ({ dir, slab, entries }: CacheWriteRequest) => {
  const cache = caches.get(dir) ?? new ChunkCache({ dir });
  caches.set(dir, cache);
  let stored = 0;
  for (const { key, at, length } of entries)
    if (cache.putSync(key, new Uint8Array(slab, at, length))) stored++;
  parentPort?.postMessage({ stored } satisfies CacheWriteReply);
});
