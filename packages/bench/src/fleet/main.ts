import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { StoreError } from '@ckpt/core';
import { machineInfo } from '../bench/machine.js';
import { type BenchMinio, startBenchMinio } from '../bench/minio.js';
import { renderMarkdown, renderText } from '../bench/report-table.js';
import { FLEET_USAGE, type FleetArgs, parseFleetArgs } from './args.js';
import { type FamilyPull, familyTable, pullFamily } from './family.js';
import { fleetTable } from './report.js';
import {
  type FleetContext,
  type FleetRow,
  type FleetStore,
  listAndCollect,
  pullTogether,
  pushDuringGc,
} from './scenarios.js';

/**
 * `pnpm bench --fleet`: many processes as hosts against one MinIO (see {@link FLEET_USAGE});
 * prints the table, writes fleet.json and fleet.md to `--out`, and returns the exit code: 0, 1
 * when a host reported an error, 2 for bad arguments.
 */
export async function fleetMain(
  argv: string[],
  out: (text: string) => void,
  log: (line: string) => void,
): Promise<number> {
  let args: FleetArgs;
  try {
    args = parseFleetArgs(argv);
  } catch (error) {
    log(`bench: ${(error as Error).message}\n${FLEET_USAGE}`);
    return StoreError.is(error, 'InvalidArgument') ? 2 : 1;
  }
  if (args.help) {
    out(FLEET_USAGE);
    return 0;
  }
  await mkdir(args.work, { recursive: true });
  const work = await mkdtemp(join(resolve(args.work), 'ckpt-fleet-'));
  const machine = await machineInfo(work, false);
  let minio: BenchMinio | undefined;
  const ctx: FleetContext = {
    work,
    log,
    async newStore(backend, label): Promise<FleetStore> {
      if (backend === 'fs') return { backend, url: join(work, 'stores', label), env: {} };
      minio ??= await startBenchMinio(join(work, 'minio'));
      const bucket = await minio.newBucket(label);
      const query = `endpoint=${minio.endpoint}&forcePathStyle=true&region=us-east-1&conditionalWrites=true`;
      const { accessKeyId, secretAccessKey } = minio.credentials;
      return {
        backend,
        url: `s3://${bucket}?${query}`,
        env: { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey },
      };
    },
  };
  const rows: FleetRow[] = [];
  let family: FamilyPull[] = [];
  const started = Date.now();
  const cleanup = async () => {
    await minio?.stop().catch(() => {});
    await rm(work, { recursive: true, force: true });
  };
  const interrupted = () => {
    log('bench: interrupted, cleaning up');
    void cleanup().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupted);
  try {
    if (args.scenarios.includes('a')) rows.push(...(await pullTogether(ctx, args.hosts, args.sizeBytes)));
    if (args.scenarios.includes('b')) {
      const b = await pullFamily(ctx, args.sizeBytes);
      rows.push(...b.rows);
      family = b.pulls;
    }
    if (args.scenarios.includes('c'))
      rows.push(...(await pushDuringGc(ctx, Math.max(1, args.hosts / 2), args.sizeBytes / 4)));
    if (args.scenarios.includes('d'))
      for (const backend of args.backends)
        rows.push(...(await listAndCollect(ctx, backend, args.models, args.generations)));
  } finally {
    process.removeListener('SIGINT', interrupted);
    await cleanup();
  }
  machine.loadAverageEnd = loadavg().map((l) => Math.round(l * 100) / 100);
  const table = fleetTable(rows);
  const tables = [table, ...(family.length > 0 ? [familyTable(family)] : [])];
  const errors = rows.flatMap((row) => row.errors.map((error) => `${row.scenario} ${row.role}: ${error}`));
  const results = {
    schema: 'ckpt-bench-fleet/1',
    date: new Date().toISOString(),
    args,
    machine,
    rows,
    family: family.map(({ run, ...pull }) => ({ ...pull, bytesRead: run.bytesIn, figures: run.figures })),
    durationMs: Date.now() - started,
  };
  const outDir = resolve(args.out);
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, 'fleet.json'), `${JSON.stringify(results, null, 1)}\n`);
  await writeFile(join(outDir, 'fleet.md'), `${tables.map(renderMarkdown).join('\n\n')}\n`);
  out(tables.map(renderText).join('\n\n'));
  for (const error of errors) log(`bench: ${error}`);
  log(`fleet results in ${outDir}`);
  return errors.length === 0 ? 0 : 1;
}
