/**
 * One host of the fleet simulation: a process that opens the store as `ckpt` does (`openStore` of
 * its URL, credentials from the environment, the CLI's memory settings), runs one job through the
 * engine and prints one {@link HostOutcome} line. A job that fails is an error of the outcome, not
 * a crash: the simulation counts them.
 *
 * `node dist/fleet/host.js '{"op":"pull","store":"s3://b?endpoint=…","model":"m","dir":"/tmp/d"}'`
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Checkpoints, openStore, StoreMetrics, withEvents } from '@ckpt/core';
import { keepYoungGenerationSmall } from '@ckpt/core/cli';
import { writeTinyCheckpoint } from './tiny-checkpoint.js';

/** What a host does: the engine call a `ckpt` command makes (`ls` is `ckpt ls`, …). */
export type HostTask =
  /** `cache`: the host's chunk cache (`ckpt pull --cache`). */
  | { op: 'pull'; model: string; dir: string; cache?: string }
  /** Pushes each directory in turn: one generation each. */
  | { op: 'push'; model: string; dirs: string[] }
  /** Pushes `generations` generations of a tiny checkpoint for each model (directories under `work`). */
  | { op: 'seed'; models: string[]; generations: number; work: string }
  | { op: 'ls' }
  | { op: 'exists'; model: string }
  | { op: 'gc'; keep?: number; grace: number }
  /** `gc` again and again until `stopFile` exists. */
  | { op: 'gc-loop'; keep: number; grace: number; stopFile: string }
  | { op: 'verify'; models: string[] };

/** A task and the URL of the store it runs on. */
export type HostJob = HostTask & { store: string };

/** What a host prints. */
export interface HostOutcome {
  /** Time of the job, without process start-up. */
  opMs: number;
  /** CPU time of the job, every thread of the process (user and system): what load on the machine does not stretch. */
  cpuMs: number;
  /** Store requests (as `withEvents` sees them: each a call of the store, its retries inside it). */
  requests: number;
  /** Bytes read from the store (get bodies) and written to it (puts). */
  bytesIn: number;
  bytesOut: number;
  /** Throttling answers the store met. */
  throttled: number;
  maxRssBytes: number;
  /** What went wrong: a failed job, a failed gc run, a generation that did not verify. */
  errors: string[];
  /** The job's own figures (models listed, packs deleted, …). */
  figures: Record<string, number>;
}

type Figures = Record<string, number>;

async function run(ckpt: Checkpoints, job: HostJob, errors: string[]): Promise<Figures> {
  switch (job.op) {
    case 'pull': {
      const { bytes, bytesTransferred, chunksNew, chunksShared, chunksCached } = await ckpt.pull(
        job.model,
        job.dir,
      );
      return { bytes, bytesTransferred, chunksNew, chunksShared, chunksCached };
    }
    case 'push': {
      let bytes = 0;
      for (const dir of job.dirs) bytes += (await ckpt.push(job.model, dir)).bytes;
      return { bytes, generations: job.dirs.length };
    }
    case 'seed': {
      for (const model of job.models) {
        const dir = join(job.work, model);
        for (let g = 0; g < job.generations; g++) {
          await writeTinyCheckpoint(dir, model, g);
          await ckpt.push(model, dir);
        }
      }
      return { generations: job.models.length * job.generations };
    }
    case 'ls': {
      const models = await ckpt.list();
      return { models: models.length, generations: models.reduce((sum, m) => sum + m.generations, 0) };
    }
    case 'exists':
      return { exists: (await ckpt.exists(job.model)) ? 1 : 0 };
    case 'gc': {
      const { expiredGenerations, ...rest } = await ckpt.gc({
        grace: job.grace,
        ...(job.keep === undefined ? {} : { keep: job.keep }),
      });
      return { ...rest, expiredGenerations: expiredGenerations.length };
    }
    case 'gc-loop': {
      const totals = { runs: 0, expiredGenerations: 0, packsDeleted: 0 };
      while (!existsSync(job.stopFile)) {
        try {
          const done = await ckpt.gc({ keep: job.keep, grace: job.grace });
          totals.expiredGenerations += done.expiredGenerations.length;
          totals.packsDeleted += done.packsDeleted;
        } catch (error) {
          errors.push(`gc run ${totals.runs + 1}: ${(error as Error).message}`);
        }
        totals.runs++;
        await sleep(100);
      }
      return totals;
    }
    case 'verify': {
      for (const model of job.models) {
        const verified = await ckpt.verify(model);
        if (!verified.ok) errors.push(`${model}: ${verified.problems.length} problems`);
      }
      return { verified: job.models.length };
    }
  }
}

/** Runs `job` and measures it. */
export async function performJob(job: HostJob): Promise<HostOutcome> {
  keepYoungGenerationSmall(); // as the ckpt command does
  const metrics = new StoreMetrics({ reservoirSize: 1 });
  const store = await openStore(job.store);
  const cache = job.op === 'pull' && job.cache ? { cache: { dir: job.cache } } : {};
  const ckpt = new Checkpoints(withEvents(store, metrics.listener), cache);
  const errors: string[] = [];
  const cpu = process.cpuUsage();
  const start = performance.now();
  let figures: Figures = {};
  try {
    figures = await run(ckpt, job, errors);
  } catch (error) {
    errors.push((error as Error).message);
  } finally {
    await ckpt.close();
    await store.close?.();
  }
  const { requests, bytesIn, bytesOut } = metrics.snapshot();
  const { user, system } = process.cpuUsage(cpu);
  return {
    opMs: performance.now() - start,
    cpuMs: (user + system) / 1000,
    requests,
    bytesIn,
    bytesOut,
    throttled: store.stats?.()?.throttled ?? 0,
    maxRssBytes: process.resourceUsage().maxRSS * 1024,
    errors,
    figures,
  };
}

if ((process.argv[1] ?? '').endsWith('host.js')) {
  process.stdout.write(`${JSON.stringify(await performJob(JSON.parse(process.argv[2] ?? '') as HostJob))}\n`);
}
