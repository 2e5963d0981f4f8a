export { type CacheStats, cacheStats, type PruneResult, pruneCache } from './cache-prune.js';
export { ChunkCache, type ChunkCacheOptions, type ChunkKey, DEFAULT_CACHE_BYTES } from './chunk-cache.js';
