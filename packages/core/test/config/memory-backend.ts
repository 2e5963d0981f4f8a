import { z } from 'zod';
import type { BackendDefinition } from '../../src/config/index.js';
import { queryFields } from '../../src/config/index.js';
import { MemoryBackend } from '../../src/memory-store.js';

/** A custom backend for tests: `mem://<name>?maxKeys=…`, one MemoryBackend per open. */
export const memorySchema = z.strictObject({
  type: z.literal('memory'),
  name: z.string().min(1),
  maxKeys: z.number().int().positive().optional(),
});

export const memoryBackend: BackendDefinition<z.infer<typeof memorySchema>> = {
  type: 'memory',
  schema: memorySchema,
  schemes: ['mem'],
  fromUrl: (url) => ({ type: 'memory', name: url.hostname, ...queryFields(url, { maxKeys: 'integer' }) }),
  open: (config) => new MemoryBackend(`mem://${config.name}`),
};

/** What a module listed under `modules` in a config file exports. */
export const backend = memoryBackend;
