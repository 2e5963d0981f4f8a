import { ChunkPlaces } from './chunk-places.js';
import type { EngineContext } from './engine-context.js';
import { fetchChunks } from './fetch-chunks.js';
import { manifestTotals } from './manifest.js';
import { validateModel } from './names.js';
import { Progress } from './progress.js';
import { chosenGeneration, readManifest } from './stored-generations.js';
import type { CallOptions, VerifyResult } from './types.js';

/**
 * Re-reads every chunk of a generation from the store and checks its SHA-256. Problems (a chunk
 * that does not match, a missing or short pack) are collected, each naming the files it breaks,
 * instead of stopping at the first one.
 */
export async function verify(
  ctx: EngineContext,
  model: string,
  options: CallOptions & { generation?: string } = {},
): Promise<VerifyResult> {
  const started = Date.now();
  validateModel(model);
  const generation = await chosenGeneration(ctx.store, model, options.generation, 'verify', options.signal);
  const manifest = await readManifest(ctx.store, model, generation, options.signal);
  const totals = manifestTotals(manifest);
  const targets = new ChunkPlaces(manifest);
  const problems: VerifyResult['problems'] = [];
  const progress = new Progress(
    'verify',
    { bytes: totals.storedBytes, files: totals.files },
    options.onProgress,
  );
  let checked = 0;
  await fetchChunks(ctx, manifest, targets.indices(), {
    signal: options.signal,
    deliver: (chunks) => {
      checked += chunks.length;
      for (const { data } of chunks) progress.add(data.length);
    },
    describe: (index) => targets.paths(index).join(', '),
    onProblem: (index, problem) => {
      for (const path of targets.paths(index)) problems.push({ path, problem });
    },
  });
  progress.done();
  return {
    model,
    generation,
    ok: problems.length === 0,
    files: totals.files,
    bytes: totals.bytes,
    chunksChecked: checked,
    problems,
    durationMs: Date.now() - started,
  };
}
