import { dirname, resolve } from 'node:path';
import type { ChunkCacheOptions, ResolvedStoreConfig } from '@ckpt/core';
import { parseSize } from '@ckpt/core/cli';
import type { CliContext, GlobalOptions } from './context.js';

/**
 * The host's chunk cache: `--cache` (or `CKPT_CACHE`, against the working directory), else the
 * config file's `cache.dir` (against the file's folder); its bound `--cache-size`
 * (`CKPT_CACHE_SIZE`), else the file's `cache.size`, else the default. Undefined: no cache.
 */
export function cacheOptions(
  globals: GlobalOptions,
  ctx: CliContext,
  resolved: Pick<ResolvedStoreConfig, 'config' | 'configFile'>,
): ChunkCacheOptions | undefined {
  const file = resolved.config?.cache;
  const dir = globals.cache
    ? resolve(ctx.cwd, globals.cache)
    : file && resolved.configFile
      ? resolve(dirname(resolved.configFile), file.dir)
      : undefined;
  if (dir === undefined) return undefined;
  const maxBytes = globals.cacheSize ?? (file?.size === undefined ? undefined : parseSize(file.size));
  return maxBytes === undefined ? { dir } : { dir, maxBytes };
}
