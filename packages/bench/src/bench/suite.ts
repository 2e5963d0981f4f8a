import { execFile } from 'node:child_process';
import { rm, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { defaultStateDir, localRecordPath } from '@ckpt/core';
import { SWEEP_FRACTIONS } from './args.js';
import type { Backend, ToolTarget } from './backends.js';
import type { MeasureLabel, Measurer } from './measure.js';
import { filesUnder } from './sdk.js';
import type { Command } from './tools.js';
import type { CacheMode, EngineKnobs, Measurement } from './types.js';
import { baseSpec, nextSpec, percent, type WorkloadSpec, type Workloads } from './workloads.js';

const run = promisify(execFile);

/** The model name every chain pushes under. */
const MODEL = 'bench';

/** What the chains share. */
export interface SuiteContext {
  work: string;
  sizeBytes: number;
  engine: EngineKnobs;
  sweep: boolean;
  /** Check pulled directories against their source (the first run only). */
  verify: boolean;
  workloads: Workloads;
  measurer: Measurer;
  /** Marks a measurement failed after the fact (a pulled directory that differs from its source). */
  fail(backend: Backend['kind'], error: string): void;
  log(line: string): void;
}

/** Where the engine keeps a directory's local record (in the state directory of this process and its children). */
function localRecord(dir: string): string {
  return localRecordPath(defaultStateDir(), dir);
}

/** Removes a directory and its local record. */
async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
  await rm(localRecord(dir), { force: true });
}

/** Forgets what the engine knows about `dir`, so that its next push reads it. */
function forgetRecord(dir: string): Promise<void> {
  return rm(localRecord(dir), { force: true });
}

/** `diff -rq --no-dereference`: throws a short description when the trees differ. */
async function sameTree(expected: string, actual: string): Promise<string | undefined> {
  try {
    await run('diff', ['-rq', '--no-dereference', expected, actual], { maxBuffer: 16 << 20 });
    return undefined;
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? (err as Error).message;
    return `pulled tree differs from ${expected}: ${out.split('\n').slice(0, 3).join(' | ')}`;
  }
}

function label(
  backend: Backend,
  cache: CacheMode,
  runIndex: number,
  rest: Pick<MeasureLabel, 'scenario' | 'tool' | 'workload' | 'logicalBytes'> & { oracleBytes?: number },
): MeasureLabel {
  return { backend: backend.kind, cache, run: runIndex, ...rest };
}

/** The key of the encrypted chain: a benchmark's, not a secret. */
const BENCH_KEY = 'ckpt benchmark encryption key';

/**
 * The engine on the main workload, in one fresh store: full push of v0, unchanged re-push, push
 * of v1 (stored bytes vs the oracle), fresh pull of v0, pull of v1 over it, then the rewrite
 * sweep (each v1 variant pushed on top of v0, its generation removed again afterwards). With
 * `encrypted`, the same in an encrypted store (tool `ckpt (encrypted)`), without the sweep.
 */
export async function ckptChain(
  ctx: SuiteContext,
  backend: Backend,
  cache: CacheMode,
  runIndex: number,
  encrypted = false,
) {
  const { workloads, measurer, sizeBytes } = ctx;
  const engine = encrypted ? { ...ctx.engine, encryption: { key: BENCH_KEY } } : ctx.engine;
  const tool = encrypted ? 'ckpt (encrypted)' : 'ckpt';
  const v0Spec = baseSpec(sizeBytes);
  const v1Spec = nextSpec(sizeBytes);
  const v0 = await workloads.dir(v0Spec);
  const v1 = await workloads.dir(v1Spec);
  const v0Info = workloads.info(v0Spec);
  const v1Info = workloads.info(v1Spec);
  const store = await backend.newStore(`${encrypted ? 'ckpt-encrypted' : 'ckpt'}-${runIndex}`);
  const storePaths = () => backend.storePaths(store);
  const tag = (scenario: MeasureLabel['scenario'], bytes: number, oracleBytes?: number, workload = 'main') =>
    label(backend, cache, runIndex, { scenario, tool, workload, logicalBytes: bytes, oracleBytes });
  const push = (dir: string) => ({ op: 'push' as const, store, model: MODEL, dir, engine });
  try {
    await forgetRecord(v0);
    const first = await measurer.child(tag('full-push', v0Info.bytes), push(v0), [v0]);
    await measurer.child(tag('unchanged-push', v0Info.bytes), push(v0), [v0]);
    await forgetRecord(v1);
    await measurer.child(tag('next-push', v1Info.bytes, v1Info.oracleBytes), push(v1), [v1]);

    const pulled = join(ctx.work, `pull-${backend.kind}`);
    await removeDir(pulled);
    const generation = first?.result.generation as string | undefined;
    const pull = { op: 'pull' as const, store, model: MODEL, dir: pulled, engine };
    if (generation) {
      await measurer.child(tag('fresh-pull', v0Info.bytes), { ...pull, generation }, storePaths());
      if (ctx.verify && runIndex === 1) await check(ctx, backend, v0, pulled);
      await measurer.child(tag('pull-over-previous', v1Info.bytes), pull, [...storePaths(), pulled]);
      if (ctx.verify && runIndex === 1) await check(ctx, backend, v1, pulled);
    }
    await removeDir(pulled);

    if (!ctx.sweep || encrypted) return;
    for (const fraction of SWEEP_FRACTIONS) {
      await backend.dropLatest(store, MODEL); // the latest is v0 again
      const spec = nextSpec(sizeBytes, fraction);
      const dir = await workloads.dir(spec);
      const info = workloads.info(spec);
      await forgetRecord(dir);
      const workload = `rewrite-${percent(fraction)}`;
      await measurer.child(tag('sweep-push', info.bytes, info.oracleBytes, workload), push(dir), [dir]);
    }
  } finally {
    await backend.dropStore(store);
  }
}

async function check(ctx: SuiteContext, backend: Backend, expected: string, actual: string): Promise<void> {
  const problem = await sameTree(expected, actual);
  if (problem) ctx.fail(backend.kind, problem);
  else ctx.log(`[${backend.kind}] verified: ${actual} equals ${expected}`);
}

/** Sets every file's mtime to now: a re-checkpoint happens after the last upload. */
async function touchAll(dir: string): Promise<void> {
  const now = new Date();
  for (const file of await filesUnder(dir)) await utimes(file, now, now);
}

/** Runs a command that is set-up, not measurement (`restic init`); throws with its stderr when it fails. */
async function setUp(command: Command): Promise<void> {
  try {
    await run(command.file, command.args, { env: command.env, maxBuffer: 16 << 20 });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `${command.file} ${command.args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`,
    );
  }
}

/**
 * A reference tool on the same data: full put of v0 and fresh get; for syncing tools also the
 * unchanged re-put, the put of v1 over v0 and the get of v1 over the v0 copy. For a tool that
 * keeps every version (restic), each put's stored bytes are how much the target grew, and the
 * put of v1 is set against the oracle as ckpt's is.
 */
export async function toolChain(
  ctx: SuiteContext,
  backend: Backend,
  target: ToolTarget,
  cache: CacheMode,
  runIndex: number,
) {
  const { workloads, measurer, sizeBytes } = ctx;
  const v0Spec = baseSpec(sizeBytes);
  const v1Spec = nextSpec(sizeBytes);
  const v0 = await workloads.dir(v0Spec);
  const v1 = await workloads.dir(v1Spec);
  const bytes0 = workloads.info(v0Spec).bytes;
  const v1Info = workloads.info(v1Spec);
  const { tool } = target;
  const id = tool.name.replace(/\W+/g, '-');
  const where = await target.newTarget(`${id}-${runIndex}`);
  const got = join(ctx.work, `get-${id}`);
  const tag = (scenario: MeasureLabel['scenario'], logicalBytes: number, oracleBytes?: number) =>
    label(backend, cache, runIndex, {
      scenario,
      tool: tool.name,
      workload: 'main',
      logicalBytes,
      oracleBytes,
    });
  const put = async (scenario: MeasureLabel['scenario'], dir: string, logical: number, oracle?: number) => {
    const before = tool.keepsHistory ? await target.targetBytes(where) : undefined;
    const m = await measurer.command(tag(scenario, logical, oracle), tool.put(dir, where), [dir]);
    if (before !== undefined && m.ok) m.bytesStored = (await target.targetBytes(where)) - before;
  };
  try {
    await removeDir(got);
    if (tool.prepare) await setUp(tool.prepare(where));
    await put('full-push', v0, bytes0);
    if (!tool.wholeCopyOnly) await put('unchanged-push', v0, bytes0);
    if (tool.get)
      await measurer.command(tag('fresh-pull', bytes0), tool.get(where, got), target.targetPaths(where));
    if (tool.get && !tool.wholeCopyOnly) {
      await touchAll(v1);
      await put('next-push', v1, v1Info.bytes, tool.keepsHistory ? v1Info.oracleBytes : undefined);
      await measurer.command(tag('pull-over-previous', v1Info.bytes), tool.get(where, got), [
        ...target.targetPaths(where),
        got,
      ]);
    }
  } finally {
    await removeDir(got);
    await target.dropTarget(where);
  }
}

/** The server's ceiling: v0's bytes as one object by multipart upload, then read with ranged GETs. */
export async function rawChain(ctx: SuiteContext, backend: Backend, cache: CacheMode, runIndex: number) {
  const server = backend.minio;
  if (!server) return;
  const spec = baseSpec(ctx.sizeBytes);
  const dir = await ctx.workloads.dir(spec);
  const bytes = ctx.workloads.info(spec).bytes;
  const bucket = await server.newBucket(`raw-${runIndex}`);
  const tag = (scenario: MeasureLabel['scenario']) =>
    label(backend, cache, runIndex, { scenario, tool: 'sdk', workload: 'main', logicalBytes: bytes });
  const op = {
    server: { endpoint: server.endpoint, credentials: server.credentials },
    bucket,
    key: 'checkpoint.bin',
  };
  try {
    await ctx.measurer.child(tag('raw-put'), { op: 'raw-put', ...op, dir }, [dir]);
    await ctx.measurer.child(tag('raw-get'), { op: 'raw-get', ...op }, server.bucketPaths(bucket));
  } finally {
    await server.dropBucket(bucket);
  }
}

/**
 * Scaling: full push and fresh pull of one workload with the engine (and, with `tools`, the
 * reference tools' whole put and get), each in a fresh store.
 */
export async function scalingChain(
  ctx: SuiteContext,
  backend: Backend,
  spec: WorkloadSpec,
  workload: string,
  cache: CacheMode,
  runIndex: number,
  tools: boolean,
) {
  const { workloads, measurer, engine } = ctx;
  const dir = await workloads.dir(spec);
  const bytes = workloads.info(spec).bytes;
  const tag = (scenario: MeasureLabel['scenario'], tool: Measurement['tool'] = 'ckpt') =>
    label(backend, cache, runIndex, { scenario, tool, workload, logicalBytes: bytes });
  const store = await backend.newStore(`scale-${runIndex}`);
  const pulled = join(ctx.work, `pull-${backend.kind}`);
  try {
    await forgetRecord(dir);
    await removeDir(pulled);
    await measurer.child(tag('full-push'), { op: 'push', store, model: MODEL, dir, engine }, [dir]);
    await measurer.child(
      tag('fresh-pull'),
      { op: 'pull', store, model: MODEL, dir: pulled, engine },
      backend.storePaths(store),
    );
    if (ctx.verify && runIndex === 1) await check(ctx, backend, dir, pulled);
  } finally {
    await removeDir(pulled);
    await backend.dropStore(store);
  }
  if (!tools) return;
  for (const target of backend.tools) {
    if (!target.tool.get) continue;
    const id = target.tool.name.replace(/\W+/g, '-');
    const where = await target.newTarget(`${id}-scale-${runIndex}`);
    const got = join(ctx.work, `get-${id}`);
    try {
      await removeDir(got);
      if (target.tool.prepare) await setUp(target.tool.prepare(where));
      await measurer.command(tag('full-push', target.tool.name), target.tool.put(dir, where), [dir]);
      await measurer.command(
        tag('fresh-pull', target.tool.name),
        target.tool.get(where, got),
        target.targetPaths(where),
      );
    } finally {
      await removeDir(got);
      await target.dropTarget(where);
    }
  }
}
