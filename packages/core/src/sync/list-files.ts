import { StoreError } from '../errors.js';
import type { EngineContext } from './engine-context.js';
import { validateGeneration, validateModel } from './names.js';
import { listGenerations, readManifest } from './stored-generations.js';
import type { FileInfo, GenerationFiles } from './types.js';

/**
 * The tree of a generation of `model` (default: the latest), from its manifest, read and
 * validated whole (within the manifest limits), parents before their children.
 */
export async function listFiles(
  ctx: EngineContext,
  model: string,
  options: { generation?: string; signal?: AbortSignal } = {},
): Promise<GenerationFiles> {
  validateModel(model);
  const generation =
    options.generation === undefined
      ? (await listGenerations(ctx.store, model, options.signal)).at(-1)
      : validateGeneration(options.generation);
  if (!generation)
    throw new StoreError('NotFound', 'no checkpoint of this model in the store', {
      operation: 'ls',
      key: model,
    });
  const manifest = await readManifest(ctx.store, model, generation, options.signal);
  const files = manifest.entries.map((entry): FileInfo => {
    if (entry.type === 'symlink') return { path: entry.path, type: 'symlink', target: entry.target };
    const { path, mode, mtimeMs } = entry;
    if (entry.type === 'dir') return { path, type: 'dir', mode, mtime: new Date(mtimeMs) };
    return { path, type: 'file', mode, size: entry.size, mtime: new Date(mtimeMs) };
  });
  return { model, generation, files };
}
