import type { EngineContext } from './engine-context.js';
import { validateModel } from './names.js';
import { chosenGeneration, readManifest } from './stored-generations.js';
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
  const generation = await chosenGeneration(ctx.store, model, options.generation, 'ls', options.signal);
  const manifest = await readManifest(ctx.store, model, generation, options.signal);
  const files = manifest.entries.map((entry): FileInfo => {
    if (entry.type === 'symlink') return { path: entry.path, type: 'symlink', target: entry.target };
    const { path, mode, mtimeMs } = entry;
    if (entry.type === 'dir') return { path, type: 'dir', mode, mtime: new Date(mtimeMs) };
    return { path, type: 'file', mode, size: entry.size, mtime: new Date(mtimeMs) };
  });
  return { model, generation, files };
}
