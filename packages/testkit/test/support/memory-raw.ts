import { compareKeys } from '@ckpt/core/backend';
import type { MemoryBackend } from '@ckpt/core/testing';
import type { RawReader } from '../../src/index.js';

/** Reads MemoryBackend's private map directly: what the backend really holds, whatever its methods say. */
export function memoryRaw(backend: MemoryBackend): RawReader {
  const objects = (backend as unknown as { objects: Map<string, { data: Buffer }> }).objects;
  return {
    read: async (key) => objects.get(key)?.data,
    keys: async () => [...objects.keys()].sort(compareKeys),
  };
}
