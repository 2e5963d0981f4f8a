import { ChunkCache, cacheStats, pruneCache, StoreError } from '@ckpt/core';
import type { Command } from 'commander';
import { cacheOptions } from '../cache-options.js';
import type { CliContext, GlobalOptions } from '../context.js';
import { formatBytes, formatCountOf } from '../format.js';
import { examples } from '../help.js';
import { runLocalCommand } from '../session.js';

/** `ckpt cache stats|prune [--all]`: what the host's chunk cache holds; evict down to its bound. */
export function cacheCommand(program: Command, ctx: CliContext): void {
  const cache = program
    .command('cache')
    .description("show or prune the host's chunk cache (--cache, CKPT_CACHE or the config file's cache.dir)")
    .addHelpText(
      'after',
      examples(
        ['ckpt cache stats --cache /var/cache/ckpt', 'entries, bytes and the bound'],
        ['ckpt cache prune', 'evict least recently used chunks down to --cache-size'],
        ['ckpt cache prune --all', 'empty the cache'],
      ),
    );
  cache
    .command('stats')
    .description('count the entries and bytes of the cache')
    .action((_flags: object, cmd: Command) =>
      runLocalCommand(ctx, cmd, async (globals, file) => {
        const stats = await cacheStats(openCache(globals, file));
        return {
          human: `${stats.dir}: ${formatCountOf(stats.entries, 'chunk')}, ${formatBytes(stats.bytes)} of ${formatBytes(stats.maxBytes)}`,
          json: stats,
        };
      }),
    );
  cache
    .command('prune')
    .description('evict least recently used chunks until the cache fits its bound (--cache-size)')
    .option('-a, --all', 'remove every chunk')
    .action((flags: { all?: boolean }, cmd: Command) =>
      runLocalCommand(ctx, cmd, async (globals, file) => {
        const opened = openCache(globals, file);
        const result = await pruneCache(opened, flags.all ? 0 : opened.maxBytes);
        return {
          human: `${result.dir}: removed ${formatCountOf(result.removed, 'chunk')} (${formatBytes(result.bytesFreed)}); ${formatCountOf(result.entries, 'chunk')}, ${formatBytes(result.bytes)} left`,
          json: result,
        };
      }),
    );

  function openCache(globals: GlobalOptions, file: Parameters<typeof cacheOptions>[2]): ChunkCache {
    const options = cacheOptions(globals, ctx, file);
    if (!options)
      throw new StoreError(
        'InvalidArgument',
        "no cache is set: pass --cache DIR, set CKPT_CACHE or the config file's cache.dir",
        { operation: 'cache' },
      );
    return new ChunkCache(options);
  }
}
