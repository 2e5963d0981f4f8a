import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Table } from '../bench/report-table.js';
import { formatBytes, formatSeconds } from '../bench/stats.js';
import {
  generateSharedBase,
  generateSharedBaseModel,
  type SharedBaseModel,
} from '../workload/shared-base.js';
import type { HostRun } from './hosts.js';
import { type FleetContext, type FleetRow, host, rowOf } from './scenarios.js';

/** Models of the family (b) pulls. */
const FAMILY = 5;
/** The share of each model that is the family's base. */
const BASE_SHARE = 0.75;

/** One pull of (b): which, what the host did not hold yet, and what it read. */
export interface FamilyPull {
  cache: boolean;
  /** 1: the host pulls every model in turn; 2: the same after every directory (and record) was evicted. */
  round: 1 | 2;
  model: string;
  logicalBytes: number;
  /** Content bytes of the model that no directory of the host held (the cache aside) when it pulled. */
  newBytes: number;
  run: HostRun;
}

/**
 * (b) One host pulls 5 models that share a base (the same container image, weights of their own),
 * each into a directory of its own, then again once every directory and local record is gone;
 * without the chunk cache, and with it (a host of its own each time).
 */
export async function pullFamily(
  ctx: FleetContext,
  sizeBytes: number,
): Promise<{ rows: FleetRow[]; pulls: FamilyPull[] }> {
  const store = await ctx.newStore('s3', 'fleet-b');
  const base = await generateSharedBase(join(ctx.work, 'b-base'), 7, Math.round(sizeBytes * BASE_SHARE));
  const models: (SharedBaseModel & { name: string })[] = [];
  for (let i = 0; i < FAMILY; i++) {
    const name = `family/model-${i}`;
    const dir = join(ctx.work, `b-model-${i}`);
    const weights = Math.round(sizeBytes * (1 - BASE_SHARE));
    models.push({ name, ...(await generateSharedBaseModel(dir, base, 70 + i, weights)) });
    await host(ctx, store, 'b-pusher', { op: 'push', model: name, dirs: [dir] });
  }
  ctx.log(
    `(b) pushed ${FAMILY} models of ${formatBytes(models[0]!.bytes)} sharing a base of ${formatBytes(base.bytes)}`,
  );
  const rows: FleetRow[] = [];
  const pulls: FamilyPull[] = [];
  for (const cache of [false, true]) {
    const name = cache ? 'b-host-cache' : 'b-host';
    const cacheDir = join(ctx.work, `${name}-cache`);
    for (const round of [1, 2] as const) {
      const runs: HostRun[] = [];
      for (const [i, model] of models.entries()) {
        const dir = join(ctx.work, `${name}-pulled-${i}`);
        const task = { op: 'pull' as const, model: model.name, dir, ...(cache ? { cache: cacheDir } : {}) };
        const run = await host(ctx, store, name, task);
        runs.push(run);
        const held = i > 0 || (cache && round === 2);
        const newBytes = cache && round === 2 ? 0 : held ? model.unsharedBytes : model.contentBytes;
        pulls.push({ cache, round, model: model.name, logicalBytes: model.bytes, newBytes, run });
      }
      const what = `${cache ? 'with' : 'without'} the cache: pull 5 models in turn${round === 2 ? ', all evicted before' : ''}`;
      rows.push(rowOf('b', store, what, runs, models[0]!.bytes));
      // the host evicts every model: its directories and their local records go
      // (a pull that failed has none: its error is in its row)
      for (let i = 0; i < FAMILY; i++)
        await rm(join(ctx.work, `${name}-pulled-${i}`), { recursive: true, force: true });
      await rm(join(ctx.work, 'state', name), { recursive: true, force: true });
    }
    await rm(cacheDir, { recursive: true, force: true });
  }
  return { rows, pulls };
}

/** Every pull of (b): what it read from the store against what the host did not hold. */
export function familyTable(pulls: FamilyPull[]): Table {
  return {
    headers: [
      'cache',
      'round',
      'model',
      'logical',
      'new to the host',
      'read from the store',
      'read - new',
      'chunks from other directories',
      'chunks from the cache',
      'chunks downloaded',
      'job s',
      'errors',
    ],
    cells: pulls.map(({ cache, round, model, logicalBytes, newBytes, run }) => [
      cache ? 'yes' : 'no',
      String(round),
      model,
      formatBytes(logicalBytes),
      formatBytes(newBytes),
      formatBytes(run.bytesIn),
      `${run.bytesIn >= newBytes ? '' : '-'}${formatBytes(Math.abs(run.bytesIn - newBytes))}`,
      String(run.figures.chunksShared ?? 0),
      String(run.figures.chunksCached ?? 0),
      String(run.figures.chunksNew ?? 0),
      formatSeconds(run.opMs),
      String(run.errors.length),
    ]),
    right: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11],
  };
}
