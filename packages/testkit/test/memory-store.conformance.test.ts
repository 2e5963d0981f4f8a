import { compareKeys, MemoryStore } from '@ckpt/core';
import { describe, it } from 'vitest';
import { type RawReader, runConformance } from '../src/index.js';

/** MemoryStore's own map, read directly: what the store really holds. */
function memoryRaw(store: MemoryStore): RawReader {
  const objects = (store as unknown as { objects: Map<string, { data: Buffer }> }).objects;
  return {
    read: async (key) => objects.get(key)?.data,
    keys: async () => [...objects.keys()].sort(compareKeys),
  };
}

runConformance(
  { describe, it },
  {
    name: 'MemoryStore',
    checkMemory: false, // it keeps every object in memory by design
    create: async () => {
      const store = new MemoryStore();
      return { store, raw: memoryRaw(store) };
    },
  },
);
