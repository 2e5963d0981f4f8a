import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCheckpoint } from '../workload/generate.js';
import type { HostTask } from './host.js';
import { type HostRun, runHost } from './hosts.js';

/** A store the hosts open: its URL (what `ckpt --store` takes) and the environment it needs. */
export interface FleetStore {
  backend: 'fs' | 's3';
  url: string;
  env: NodeJS.ProcessEnv;
}

/** What every scenario needs. */
export interface FleetContext {
  work: string;
  /** A new, empty store on `backend` for one scenario. */
  newStore(backend: 'fs' | 's3', label: string): Promise<FleetStore>;
  log(line: string): void;
}

/** One line of the results: processes of one role in one scenario, added up. */
export interface FleetRow {
  scenario: string;
  backend: 'fs' | 's3';
  role: string;
  processes: number;
  /** The longest process, spawn to exit (they run at once). */
  wallMs: number;
  /** The longest job alone (no process start-up), and its CPU time. */
  opMs: number;
  cpuMs: number;
  requests: number;
  bytesIn: number;
  bytesOut: number;
  /** Logical bytes each process moved (the checkpoint's size), where that applies. */
  logicalBytes: number;
  /** The largest peak RSS of one process. */
  peakRssBytes: number;
  throttled: number;
  errors: string[];
  /** The jobs' own figures, added up. */
  figures: Record<string, number>;
}

/** The row of `runs`, processes of one role. */
export function rowOf(
  scenario: string,
  store: FleetStore,
  role: string,
  runs: HostRun[],
  logicalBytes = 0,
): FleetRow {
  const sum = (pick: (run: HostRun) => number) => runs.reduce((total, run) => total + pick(run), 0);
  const figures: Record<string, number> = {};
  for (const run of runs)
    for (const [name, value] of Object.entries(run.figures)) figures[name] = (figures[name] ?? 0) + value;
  return {
    scenario,
    backend: store.backend,
    role,
    processes: runs.length,
    wallMs: Math.max(...runs.map((run) => run.wallMs)),
    opMs: Math.max(...runs.map((run) => run.opMs)),
    cpuMs: Math.max(...runs.map((run) => run.cpuMs)),
    requests: sum((run) => run.requests),
    bytesIn: sum((run) => run.bytesIn),
    bytesOut: sum((run) => run.bytesOut),
    logicalBytes,
    peakRssBytes: Math.max(...runs.map((run) => run.peakRssBytes)),
    throttled: sum((run) => run.throttled),
    errors: runs.flatMap((run) => run.errors),
    figures,
  };
}

/** `job` on `store` as host `name` (its own state directory, as a separate machine has). */
export function host(ctx: FleetContext, store: FleetStore, name: string, task: HostTask) {
  const env = { ...store.env, CKPT_STATE_DIR: join(ctx.work, 'state', name) };
  return runHost({ ...task, store: store.url }, env);
}

/** (a) `hosts` processes pull the same model from one MinIO at once. */
export async function pullTogether(ctx: FleetContext, hosts: number, sizeBytes: number): Promise<FleetRow[]> {
  const store = await ctx.newStore('s3', 'fleet-a');
  const source = join(ctx.work, 'a-source');
  const generated = await generateCheckpoint(source, { seed: 1, totalBytes: sizeBytes });
  const pushed = await host(ctx, store, 'a-pusher', { op: 'push', model: 'shared', dirs: [source] });
  ctx.log(
    `(a) pushed ${generated.bytes} bytes in ${Math.round(pushed.wallMs)} ms; ${hosts} hosts pull at once`,
  );
  // what a switcher asks before it pulls, of a checkpoint with many chunks and packs
  const exists = await host(ctx, store, 'a-admin', { op: 'exists', model: 'shared' });
  const listed = await host(ctx, store, 'a-admin', { op: 'ls' });
  const pulls = await Promise.all(
    Array.from({ length: hosts }, (_, i) =>
      host(ctx, store, `a-host-${i}`, { op: 'pull', model: 'shared', dir: join(ctx.work, `a-host-${i}`) }),
    ),
  );
  return [
    rowOf('a', store, 'push (once, before)', [pushed], generated.bytes),
    rowOf('a', store, 'exists', [exists]),
    rowOf('a', store, 'ls', [listed]),
    rowOf('a', store, 'pull, all hosts at once', pulls, generated.bytes),
  ];
}

/** (c) `hosts` processes push different models (3 versions each) while a gc loop runs, then everything verifies. */
export async function pushDuringGc(ctx: FleetContext, hosts: number, sizeBytes: number): Promise<FleetRow[]> {
  const store = await ctx.newStore('s3', 'fleet-c');
  const models = Array.from({ length: hosts }, (_, i) => `team/model-${i}`);
  const versions = await Promise.all(
    models.map(async (_, i) => {
      const dirs: string[] = [];
      for (let version = 0; version < 3; version++) {
        const dir = join(ctx.work, `c-${i}-v${version}`);
        await generateCheckpoint(dir, { seed: 100 + i, version, totalBytes: sizeBytes });
        dirs.push(dir);
      }
      return dirs;
    }),
  );
  ctx.log(`(c) ${hosts} hosts push 3 versions each while gc --keep 1 --grace 0 runs in a loop`);
  const stopFile = join(ctx.work, 'c-stop');
  const gcLoop = host(ctx, store, 'c-gc', { op: 'gc-loop', keep: 1, grace: 0, stopFile });
  const pushes = await Promise.all(
    models.map((model, i) => host(ctx, store, `c-host-${i}`, { op: 'push', model, dirs: versions[i]! })),
  );
  await writeFile(stopFile, '');
  const gc = await gcLoop;
  const verified = await host(ctx, store, 'c-verify', { op: 'verify', models });
  return [
    rowOf('c', store, 'push 3 versions', pushes, 3 * sizeBytes),
    rowOf('c', store, 'gc --keep 1 --grace 0, in a loop', [gc]),
    rowOf('c', store, 'verify every model after', [verified]),
  ];
}

/** (d) `models` × `generations` tiny checkpoints, listed and collected, on `backend`. */
export async function listAndCollect(
  ctx: FleetContext,
  backend: 'fs' | 's3',
  models: number,
  generations: number,
): Promise<FleetRow[]> {
  const store = await ctx.newStore(backend, 'fleet-d');
  const names = Array.from({ length: models }, (_, i) => `org-${i % 10}/model-${String(i).padStart(4, '0')}`);
  const seeders = 4;
  ctx.log(`(d) ${backend}: seeding ${models} models x ${generations} generations with ${seeders} hosts`);
  const seeded = await Promise.all(
    Array.from({ length: seeders }, (_, s) =>
      host(ctx, store, `d-seed-${s}`, {
        op: 'seed',
        models: names.filter((_, i) => i % seeders === s),
        generations,
        work: join(ctx.work, `d-${backend}-trees`),
      }),
    ),
  );
  const rows = [rowOf('d', store, 'seed (push every generation)', seeded)];
  const measure = async (role: string, task: HostTask) => {
    const run = await host(ctx, store, 'd-admin', task);
    ctx.log(
      `(d) ${backend}: ${role}: ${Math.round(run.opMs)} ms (CPU ${Math.round(run.cpuMs)} ms), ${run.requests} requests`,
    );
    rows.push(rowOf('d', store, role, [run]));
  };
  await measure('ls', { op: 'ls' });
  await measure('exists (one model)', { op: 'exists', model: names[0]! });
  await measure('gc (keeps all: reads every manifest)', { op: 'gc', grace: 6 * 3600_000 });
  const keep = Math.ceil(generations / 2);
  await measure(`gc --keep ${keep} --grace 0 (expires)`, { op: 'gc', keep, grace: 0 });
  await measure(`gc --keep ${keep} --grace 0 again (purges, deletes)`, { op: 'gc', keep, grace: 0 });
  await measure('ls after gc', { op: 'ls' });
  return rows;
}
