import type { MemoryStore } from '@ckpt/core';
import type { RawReader } from '../../src/index.js';

/** Reads MemoryStore's private map directly: what the store really holds, whatever its methods say. */
export function memoryRaw(store: MemoryStore): RawReader {
  const objects = (store as unknown as { objects: Map<string, { data: Buffer }> }).objects;
  return {
    read: async (key) => objects.get(key)?.data,
    keys: async () => [...objects.keys()].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
  };
}
