import { MemoryBackend } from '@ckpt/core/testing';
import { describe, it } from 'vitest';
import { runConformance } from '../src/index.js';
import { memoryRaw } from './support/memory-raw.js';

runConformance(
  { describe, it },
  {
    name: 'MemoryBackend',
    checkMemory: false, // it keeps every object in memory by design
    create: async () => {
      const backend = new MemoryBackend();
      return { backend, raw: memoryRaw(backend) };
    },
  },
);
