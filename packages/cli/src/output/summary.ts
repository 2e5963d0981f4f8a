import type { DeleteResult, GcResult, PullResult, PushResult, TransferStats, VerifyResult } from '@ckpt/core';
import { formatBytes, formatCount, formatCountOf, formatDuration, formatRate } from '../format.js';

/**
 * `312 files, 3.00 GiB; transferred 410 MiB, reused 1,200 of 1,500 chunks; 12.3 s, 250 MiB/s`;
 * a pull adds where its reused chunks came from besides the directory: `(1,100 resumed, 80 from other
 * directories, 20 from the cache)`.
 */
function transferLine(
  stats: TransferStats & { chunksResumed?: number; chunksShared?: number; chunksCached?: number },
): string {
  const chunks = stats.chunksNew + stats.chunksReused;
  const sources = [
    stats.chunksResumed ? `${formatCount(stats.chunksResumed)} resumed` : '',
    stats.chunksShared ? `${formatCount(stats.chunksShared)} from other directories` : '',
    stats.chunksCached ? `${formatCount(stats.chunksCached)} from the cache` : '',
  ].filter(Boolean);
  const resumed = sources.length > 0 ? ` (${sources.join(', ')})` : '';
  return [
    `${formatCountOf(stats.files, 'file')}, ${formatBytes(stats.bytes)}`,
    `transferred ${formatBytes(stats.bytesTransferred)}, reused ${formatCount(stats.chunksReused)} of ${formatCountOf(chunks, 'chunk')}${resumed}`,
    `${formatDuration(stats.durationMs)}, ${formatRate(stats.throughput)}`,
  ].join('; ');
}

/** The one-line summary of a push. */
export function pushSummary(result: PushResult): string {
  if (result.generation === result.parent) {
    return `${result.model} is unchanged since generation ${result.generation}: nothing written; ${transferLine(result)}`;
  }
  const note = result.unchanged ? ' (unchanged since the previous generation)' : '';
  const concurrent = result.concurrent.length
    ? ` (${formatCountOf(result.concurrent.length, 'other generation')} committed meanwhile)`
    : '';
  const damaged = result.damagedChunks
    ? `; ${formatCountOf(result.damagedChunks, 'chunk')} of generation ${result.parent} lost or damaged in the store, not reused`
    : '';
  const resumed = result.bytesResumed
    ? ` (resumed ${formatBytes(result.bytesResumed)} an interrupted push had stored)`
    : '';
  return `pushed ${result.model} generation ${result.generation}${note}: ${transferLine(result)}${resumed}${concurrent}${damaged}`;
}

/** The warning of a push whose parent stays broken: the directory no longer holds some of its damaged data. */
export function unrepairedWarning(result: PushResult): string | undefined {
  const [first, ...more] = result.unrepairedFiles;
  if (first === undefined) return undefined;
  const files = more.length
    ? `${first} (and ${formatCountOf(more.length, 'more file', 'more files')})`
    : first;
  return `warning: generation ${result.parent} stays broken: this directory no longer holds the damaged data of ${files}; generation ${result.generation} does not need it`;
}

/** The one-line summary of a pull. */
export function pullSummary(result: PullResult, dir: string): string | string[] {
  if (result.upToDate) return `${dir} is already at ${result.model} generation ${result.generation}`;
  if (result.plan) {
    const { add, change, remove } = result.plan;
    return [
      `pull (dry run) of ${result.model} generation ${result.generation} into ${dir}: would add ${add.length}, change ${change.length}, remove ${remove.length}`,
      ...add.map((p) => `+ ${p}`),
      ...change.map((p) => `~ ${p}`),
      ...remove.map((p) => `- ${p}`),
    ];
  }
  const legacy = result.legacy ? ' (legacy llmux checkpoint: no hashes to check)' : '';
  return `pulled ${result.model} generation ${result.generation} into ${dir}${legacy}: ${transferLine(result)}`;
}

/**
 * The summary of a verify: one line, then one line per problem and how to repair, `repair` being
 * the push that does (see `repairCommand`).
 */
export function verifySummary(result: VerifyResult, repair: string): string[] {
  const what = `${result.model} generation ${result.generation}`;
  const counts = `${formatCountOf(result.files, 'file')}, ${formatBytes(result.bytes)}, ${formatCountOf(result.chunksChecked, 'chunk')}, ${formatDuration(result.durationMs)}`;
  if (result.ok) return [`verified ${what}: ${counts}, all intact`];
  return [
    `verify ${what}: ${counts}, ${formatCountOf(result.problems.length, 'problem')}:`,
    ...result.problems.map((p) => `  ${p.path}: ${p.problem}`),
    // a repair push reads back every chunk it could reuse and uploads the damaged ones again
    `to repair: run '${repair}' with a directory that holds this checkpoint (it commits a new generation that verifies), or pull an older generation that verifies`,
  ];
}

/** The stderr line of a verify that found problems: names the first broken file. */
export function verifyFailure(result: VerifyResult): string {
  const first = result.problems[0];
  const more = result.problems.length > 1 ? ` (and ${result.problems.length - 1} more)` : '';
  return `verify ${result.model} generation ${result.generation}: integrity failure: ${first ? `${first.path}: ${first.problem}` : 'unknown problem'}${more}`;
}

/** The one-line summary of a delete. */
export function deleteSummary(result: DeleteResult, dryRun: boolean): string {
  const list = `${formatCountOf(result.generations.length, 'generation')} of ${result.model} (${result.generations.join(', ')})`;
  if (dryRun) return `delete (dry run): would delete ${list}`;
  return `deleted ${list}; 'ckpt gc' frees their data after the grace period`;
}

/** The one-line summary of a gc. */
export function gcSummary(result: GcResult, dryRun: boolean): string {
  const verb = dryRun ? 'would delete' : 'deleted';
  return [
    `gc${dryRun ? ' (dry run)' : ''}: expired ${formatCountOf(result.expiredGenerations.length, 'generation')}, purged ${formatCountOf(result.purgedGenerations, 'deleted generation')}`,
    `${verb} ${formatCountOf(result.packsDeleted, 'pack')}, ${formatBytes(result.bytesFreed)}`,
    `kept ${formatCount(result.packsLive)} live and ${formatCount(result.packsInGrace)} in grace` +
      (result.pushesInFlight
        ? ` (${formatCountOf(result.pushesInFlight, 'push', 'pushes')} in flight)`
        : '') +
      (result.abandonedRemoved
        ? `; removed ${formatCountOf(result.abandonedRemoved, 'abandoned upload')}`
        : ''),
    formatDuration(result.durationMs),
  ].join('; ');
}
