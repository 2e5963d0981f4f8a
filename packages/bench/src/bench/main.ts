import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { StoreError } from '@ckpt/core';
import { fleetMain } from '../fleet/main.js';
import { BENCH_USAGE, parseBenchArgs, SWEEP_FRACTIONS } from './args.js';
import {
  azureBackend,
  type Backend,
  type BuiltTools,
  fsBackend,
  gcsBackend,
  type StoreToolName,
  s3Backend,
} from './backends.js';
import { engineHash, snapshotEngine } from './engine-snapshot.js';
import { dropCaches, machineInfo } from './machine.js';
import { Measurer } from './measure.js';
import { computeRatios } from './ratios.js';
import { replaceResults, resultsMarkdown } from './report-md.js';
import { resultsSvg } from './report-svg.js';
import { ratiosTable, renderText, resultsTable, scalingTable, sweepTable } from './report-table.js';
import { aggregate, formatBytes } from './stats.js';
import { ckptChain, rawChain, type SuiteContext, scalingChain, toolChain } from './suite.js';
import { ensureDebianTools, toolBinary } from './tools.js';
import type { BackendKind, BenchArgs, BenchResults, Measurement } from './types.js';
import { baseSpec, nextSpec, smallFilesSpec, type WorkloadSpec, Workloads } from './workloads.js';

const run = promisify(execFile);
const GiB = 2 ** 30;

/** The repository root (this file is `packages/bench/dist/bench/main.js` once built). */
const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** `512MiB`, `2GiB`, `0.5GiB`… as a workload label. */
export function sizeLabel(bytes: number): string {
  return bytes >= GiB / 2
    ? `${Math.round((bytes / GiB) * 100) / 100}GiB`
    : `${Math.round(bytes / 2 ** 20)}MiB`;
}

/** Bytes of scratch space the run needs at its peak, roughly (workloads, stores, copies). */
export function diskNeeded(args: BenchArgs): number {
  const main = args.sizeBytes * ((args.sweep ? 1 + SWEEP_FRACTIONS.length : 2) + 3);
  const scaling = Math.max(0, ...args.scalingBytes) * 4;
  return Math.max(main, scaling);
}

async function availableBytes(dir: string): Promise<number> {
  const { stdout } = await run('df', ['-B1', '--output=avail', dir]);
  return Number(stdout.trim().split('\n').at(-1));
}

/** Runs every measurement the arguments ask for and returns them. */
async function measureAll(args: BenchArgs, ctx: SuiteContext, backends: Backend[], log: (l: string) => void) {
  const { workloads } = ctx;
  for (const cache of args.cache) {
    for (let i = 1; i <= args.runs; i++) {
      for (const backend of backends) {
        // plain and encrypted take turns going first, so that neither always meets a store the other just used
        const modes = args.encryption ? (i % 2 === 1 ? [false, true] : [true, false]) : [false];
        for (const encrypted of modes) await ckptChain(ctx, backend, cache, i, encrypted);
        for (const target of backend.tools) await toolChain(ctx, backend, target, cache, i);
        await rawChain(ctx, backend, cache, i);
      }
    }
  }
  const mainSpecs = [
    baseSpec(args.sizeBytes),
    nextSpec(args.sizeBytes),
    ...SWEEP_FRACTIONS.map((f) => nextSpec(args.sizeBytes, f)),
  ];
  for (const spec of mainSpecs) await workloads.remove(spec);
  // the reference tools run on every scaling workload where they are quick (cp -r: its time per
  // GiB shows what the machine does at each size), and on the small files everywhere
  const scaling: [WorkloadSpec, string, (backend: Backend) => boolean][] = args.scalingBytes
    .filter((bytes) => bytes !== args.sizeBytes)
    .map((bytes) => [
      { name: `scale-${bytes}`, version: 0, options: { totalBytes: bytes } },
      sizeLabel(bytes),
      (backend) => args.tools && backend.kind === 'fs',
    ]);
  if (args.smallFiles > 0) scaling.push([smallFilesSpec(args.smallFiles), 'small-files', () => args.tools]);
  for (const [spec, label, tools] of scaling) {
    log(`scaling workload ${label}`);
    for (const cache of args.cache) {
      for (let i = 1; i <= args.runs; i++) {
        for (const backend of backends)
          await scalingChain(ctx, backend, spec, label, cache, i, tools(backend));
      }
    }
    await workloads.remove(spec);
  }
}

/** Writes results.json, table.txt, results.md and bench.svg to `out`; with `updateDocs` also docs/. */
async function writeResults(results: BenchResults, out: string, updateDocs: boolean): Promise<string> {
  const versions = Object.entries(results.machine.tools).map(([tool, version]) => `${tool}: ${version}`);
  const text = [
    `Tools: ${versions.join('; ')}`,
    renderText(ratiosTable(results.ratios)),
    renderText(resultsTable(results.rows)),
    renderText(sweepTable(results.rows)),
    renderText(scalingTable(results.rows)),
  ].join('\n\n');
  const svg = resultsSvg(results);
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  await writeFile(join(out, 'table.txt'), `${text}\n`);
  await writeFile(join(out, 'results.md'), resultsMarkdown(results, 'bench.svg'));
  await writeFile(join(out, 'bench.svg'), svg);
  if (updateDocs) {
    const docs = join(REPO_ROOT, 'docs');
    await mkdir(join(docs, 'bench'), { recursive: true });
    await writeFile(join(docs, 'bench', 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
    await writeFile(join(docs, 'bench', 'bench.svg'), svg);
    const page = join(docs, 'benchmarks.md');
    await writeFile(
      page,
      replaceResults(await readFile(page, 'utf8'), resultsMarkdown(results, 'bench/bench.svg')),
    );
  }
  return text;
}

/**
 * `pnpm bench`: measures ckpt and the reference tools on every backend asked for, prints the
 * tables, writes the results (see {@link BENCH_USAGE}) and returns the exit code: 0, 1 when an
 * operation failed, 2 for bad arguments or too little disk.
 */
export async function benchMain(
  argv: string[],
  out: (text: string) => void = (text) => process.stdout.write(`${text}\n`),
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<number> {
  const t0 = performance.now();
  const log = (line: string) => {
    const s = Math.round((performance.now() - t0) / 1000);
    write(`[${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}] ${line}`);
  };
  const given = argv[0] === '--' ? argv.slice(1) : argv;
  if (given.includes('--fleet')) return fleetMain(given, out, log);
  let args: BenchArgs;
  try {
    args = parseBenchArgs(given);
  } catch (error) {
    log(`bench: ${(error as Error).message}\n${BENCH_USAGE}`);
    return StoreError.is(error, 'InvalidArgument') ? 2 : 1;
  }
  if (args.help) {
    out(BENCH_USAGE);
    return 0;
  }
  if (args.report) {
    const earlier = JSON.parse(await readFile(args.report, 'utf8')) as BenchResults;
    const rows = aggregate(earlier.measurements);
    const results = { ...earlier, rows, ratios: computeRatios(rows) };
    out(await writeResults(results, resolve(args.out), args.updateDocs));
    return 0;
  }
  await mkdir(args.work, { recursive: true });
  const needed = diskNeeded(args);
  const available = await availableBytes(args.work);
  log(`scratch space in ${args.work}: ${formatBytes(available)} free, about ${formatBytes(needed)} needed`);
  if (available < needed * 1.1) {
    log('bench: not enough free disk for this run: lower --size or drop --large');
    return 2;
  }
  const dropWorks = await dropCaches();
  if (args.cache.includes('cold') && !dropWorks) {
    log('bench: --cache cold needs permission to write /proc/sys/vm/drop_caches (root)');
    return 2;
  }
  const storeTools: StoreToolName[] = [];
  const built: BuiltTools = {};
  if (args.tools) {
    const wanted = (...kinds: BackendKind[]) => kinds.some((kind) => args.backends.includes(kind));
    for (const [name, needed] of [
      ['s5cmd', wanted('s3')],
      ['restic', wanted('fs', 's3')],
      ['azcopy', wanted('azure')],
    ] as const) {
      if (!needed) continue;
      const binary = await toolBinary(name);
      if (binary) {
        built[name] = binary;
        storeTools.push(name);
      } else
        log(`bench: ${name} is missing (bash scripts/install-test-tools.sh --bench): its rows are skipped`);
    }
    if (wanted('s3', 'gcs', 'azure')) {
      const missing = await ensureDebianTools(log);
      if (!missing.some((m) => m.endsWith('aws'))) storeTools.push('aws');
      if (!missing.includes('rclone')) storeTools.push('rclone');
      for (const m of missing) log(`bench: ${m} is missing: its rows are skipped`);
    }
  }
  const work = await mkdtemp(join(resolve(args.work), 'ckpt-bench-'));
  // the engine's local records of the benchmark's directories stay with them, for this run and its children
  process.env.CKPT_STATE_DIR = join(work, 'state');
  const machine = await machineInfo(work, dropWorks);
  const liveHash = await engineHash();
  const snapshot = await snapshotEngine(join(work, 'engine'));
  machine.engine = { commit: snapshot.commit, dirty: snapshot.dirty, hash: snapshot.hash };
  log(
    `engine: commit ${snapshot.commit}${snapshot.dirty ? ' + uncommitted changes' : ''}, build ${snapshot.hash}` +
      (snapshot.hash === liveHash ? '' : ` (the checkout's build changed while copying: ${liveHash})`),
  );
  const measurements: Measurement[] = [];
  const backends: Backend[] = [];
  const cleanup = async () => {
    for (const backend of backends.splice(0)) await backend.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  };
  const interrupted = () => {
    log('bench: interrupted, cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  const workloads = new Workloads(join(work, 'workloads'), args.seed, log);
  const ctx: SuiteContext = {
    work,
    sizeBytes: args.sizeBytes,
    engine: args.engine,
    sweep: args.sweep,
    verify: args.verify,
    workloads,
    measurer: new Measurer(snapshot.runner, (m) => measurements.push(m), log),
    fail(backend, error) {
      const last = measurements.findLast((m) => m.backend === backend && m.tool === 'ckpt');
      if (last) Object.assign(last, { ok: false, error });
      log(`[${backend}] VERIFY FAILED: ${error}`);
    },
    log,
  };
  try {
    const start: Record<BackendKind, () => Promise<Backend>> = {
      fs: () => fsBackend(work, args.tools, built),
      s3: () => s3Backend(work, storeTools, built),
      gcs: () => gcsBackend(work, storeTools),
      azure: () => azureBackend(work, storeTools, built),
    };
    for (const kind of args.backends) {
      const backend = await start[kind]();
      backends.push(backend);
      if (backend.server) ctx.measurer.watchServer(kind, backend.server.pid);
    }
    await measureAll(args, ctx, backends, log);
  } finally {
    process.removeListener('SIGINT', interrupted);
    await cleanup();
  }
  machine.loadAverageEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  machine.engine.rebuiltDuringRun = (await engineHash()) !== liveHash;
  if (machine.engine.rebuiltDuringRun) {
    log(
      `bench: the checkout's engine was rebuilt during the run; every run measured the snapshot ${snapshot.hash}`,
    );
  }
  const rows = aggregate(measurements);
  const results: BenchResults = {
    schema: 'ckpt-bench/1',
    date: new Date().toISOString(),
    args,
    machine,
    workloads: workloads.all(),
    measurements,
    rows,
    ratios: computeRatios(rows),
    durationMs: performance.now() - t0,
  };
  out(await writeResults(results, resolve(args.out), args.updateDocs));
  log(`results in ${resolve(args.out)}${args.updateDocs ? ' and docs/benchmarks.md' : ''}`);
  return measurements.every((m) => m.ok) ? 0 : 1;
}
