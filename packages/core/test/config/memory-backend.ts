import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { BackendDefinition } from '../../src/config/index.js';
import { BackendRegistry, queryFields } from '../../src/config/index.js';
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

/** A stand-in for `@ckpt/fs` (which core cannot import): `file:` URLs and local paths, `{type: 'fs', root}`. */
export const fakeFsBackend: BackendDefinition<{ type: 'fs'; root: string }> = {
  type: 'fs',
  schema: z.strictObject({ type: z.literal('fs'), root: z.string().min(1) }),
  schemes: ['file'],
  fromUrl: (url) => ({ type: 'fs', root: fileURLToPath(url) }),
  resolvePaths: (config, base) => ({ ...config, root: path.resolve(base, config.root) }),
  open: (config) => new MemoryBackend(`file://${config.root}`),
};

/** A registry that knows the built-in backends, with {@link fakeFsBackend} and {@link memoryBackend} registered. */
export function testRegistry(): BackendRegistry {
  const registry = new BackendRegistry();
  registry.register(fakeFsBackend);
  registry.register(memoryBackend);
  return registry;
}
