// Faults on the wire: for each network backend, push, pull, verify, ls and gc run as the real
// `ckpt` command through a proxy that resets, cuts, stalls or throttles a share of the
// connections. After each operation: it succeeded with the right result (a pulled tree exactly a
// pushed version: paths, modes, times, contents), or failed cleanly (exit 1, one `ckpt:` line,
// the destination as it was, nothing beside it), within a hard time limit; no committed
// generation disappeared but those gc may expire. At the end every generation verifies straight
// from the server.
import { spawn } from 'node:child_process';
import { mkdir, readdir, utimes } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { mulberry32 } from '@ckpt/core/testing';
import type { FaultKind } from '@ckpt/test-servers';
import { treeDigest } from '@ckpt/test-utils';
import { BACKENDS, type BackendName, startTarget } from './faults-backends.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CKPT = path.join(ROOT, 'packages/cli/bin/ckpt.js');
const GEN = path.join(ROOT, 'packages/bench/bin/gen-workload.mjs');
/** Generations gc keeps. */
const KEEP = 4;

export interface FaultCampaignOptions {
  work: string;
  /** Operations per backend. */
  ops: number;
  seed: number;
  backends?: readonly BackendName[];
  /** Size of each of the three checkpoint versions. Default 16 MiB. */
  size?: string;
  /** Share of connections the proxy means to hurt (a fault aimed past a connection's last exchange never happens). Default 0.15. */
  probability?: number;
  /** The clients' connect and idle timeouts. Default 2000 ms. */
  timeoutMs?: number;
  /** An operation still running after this long is a hang: killed, and a problem. Default 180 s. */
  opLimitMs?: number;
  log?: (line: string) => void;
}

type Op = 'push' | 'pull' | 'verify' | 'ls' | 'gc';

export interface BackendResult {
  backend: BackendName;
  connections: number;
  requests: number;
  injected: Record<FaultKind, number>;
  ops: Record<Op, number>;
  succeeded: number;
  /** Exit 1 and one `ckpt:` line, nothing changed or left behind. */
  failedCleanly: number;
  hung: number;
  /** Pushes that failed although their generation was committed. */
  committedThoughFailed: number;
  /** Generations that disappeared without gc or fail to verify at the end. */
  generationsLost: number;
  generationsVerified: number;
  slowestOpMs: number;
  /** What went wrong, each naming the operation. Empty when every check held. */
  problems: string[];
}

export async function runFaultCampaign(options: FaultCampaignOptions): Promise<BackendResult[]> {
  const versions: string[] = [];
  const digests: string[] = [];
  for (const i of [0, 1, 2]) {
    const dir = path.join(options.work, `v${i}`);
    await mustRun([GEN, dir, '--size', options.size ?? '16MiB', '--version', String(i), '--seed', '11']);
    await wholeSecondTimes(dir, 1_700_000_000 + i * 100_000);
    versions.push(dir);
    digests.push(await treeDigest(dir, { times: true }));
  }
  const results: BackendResult[] = [];
  for (const [i, backend] of (options.backends ?? BACKENDS).entries())
    results.push(await runBackend(backend, { ...options, seed: options.seed + i }, versions, digests));
  return results;
}

async function runBackend(
  backend: BackendName,
  options: FaultCampaignOptions,
  versions: string[],
  digests: string[],
): Promise<BackendResult> {
  const log = options.log ?? (() => {});
  const random = mulberry32(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const work = path.join(options.work, backend);
  const dst = path.join(work, 'dst');
  await mkdir(work, { recursive: true });
  const target = await startTarget(backend, {
    probability: options.probability ?? 0.15,
    seed: options.seed,
    timeoutMs: options.timeoutMs ?? 2000,
  });
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: work,
    CKPT_STATE_DIR: path.join(work, 'state'),
    ...target.env,
  };
  const ckpt = (store: string, args: string[]) =>
    run([CKPT, ...args, '--store', store, '--json'], env, options.opLimitMs ?? 180_000);
  const generationsNow = async (): Promise<string[]> => {
    const listed = await ckpt(target.direct, ['ls', 'm']);
    if (listed.code === 3) return [];
    if (listed.code !== 0) throw new Error(`${backend}: direct ls failed: ${listed.stderr}`);
    return (JSON.parse(listed.stdout) as { generations: { generation: string }[] }).generations
      .map((g) => g.generation)
      .sort();
  };
  const dstDigest = () => treeDigest(dst, { times: true }).catch(() => 'missing');

  const result: BackendResult = {
    backend,
    connections: 0,
    requests: 0,
    injected: { reset: 0, cut: 0, stall: 0, throttle: 0 },
    ops: { push: 0, pull: 0, verify: 0, ls: 0, gc: 0 },
    succeeded: 0,
    failedCleanly: 0,
    hung: 0,
    committedThoughFailed: 0,
    generationsLost: 0,
    generationsVerified: 0,
    slowestOpMs: 0,
    problems: [],
  };
  /** The version each generation holds. */
  const versionOf = new Map<string, number>();
  let listed: string[] = [];
  try {
    for (let i = 0; i < options.ops; i++) {
      const problem = (what: string) => {
        result.problems.push(`${backend} #${i}: ${what}`);
        log(`${backend} #${i}: PROBLEM ${what}`);
      };
      const ops: Op[] = ['push', 'push', 'push', 'pull', 'pull', 'pull', 'verify', 'verify', 'ls', 'gc'];
      const op: Op = listed.length ? pick(ops) : 'push';
      const version = Math.floor(random() * versions.length);
      const generation = listed.length ? pick(listed) : '';
      const args: Record<Op, string[]> = {
        push: ['push', versions[version]!, '--model', 'm'],
        pull: ['pull', 'm', dst, '--generation', generation],
        verify: ['verify', 'm', '--generation', generation],
        ls: random() < 0.5 ? ['ls'] : ['ls', 'm'],
        gc: ['gc', '--keep', String(KEEP), '--grace', '0', '--force'],
      };
      const before = await dstDigest();
      const outcome = await ckpt(target.proxied, args[op]);
      result.ops[op]++;
      result.slowestOpMs = Math.max(result.slowestOpMs, outcome.ms);
      const now = await generationsNow();
      let json: Record<string, unknown> = {};
      if (outcome.code === 0) {
        try {
          json = JSON.parse(outcome.stdout) as Record<string, unknown>;
        } catch {
          problem(`${op} exited 0 without its JSON result: ${JSON.stringify(outcome.stdout)}`);
        }
      }

      if (outcome.hung) {
        result.hung++;
        problem(`${op} still running after ${outcome.ms} ms: killed`);
      } else if (outcome.code === 0) {
        result.succeeded++;
        if (outcome.stderr) problem(`${op} succeeded but wrote to stderr: ${outcome.stderr.trim()}`);
        if (op === 'pull' && (await dstDigest()) !== digests[versionOf.get(generation)!])
          problem(`pull of ${generation} exited 0 but the tree is not version ${versionOf.get(generation)}`);
        if (op === 'verify' && json.ok !== true) problem(`verify exited 0 without ok: ${outcome.stdout}`);
        if (op === 'ls') {
          const seen = args.ls.length === 2 ? lsGenerations(json) : lsCount(json);
          const expected = args.ls.length === 2 ? now : now.length;
          if (JSON.stringify(seen) !== JSON.stringify(expected))
            problem(`ls exited 0 with ${JSON.stringify(seen)}, the store has ${JSON.stringify(expected)}`);
        }
      } else {
        const lines = outcome.stderr.trim().split('\n');
        const clean = outcome.code === 1 && lines.length === 1 && lines[0]!.startsWith('ckpt: ');
        if (clean) result.failedCleanly++;
        else problem(`${op} failed with exit ${outcome.code} and stderr ${JSON.stringify(outcome.stderr)}`);
        if (op === 'pull' && (await dstDigest()) !== before) problem('a failed pull changed the destination');
      }
      const left = (await readdir(work)).filter((name) => name.startsWith('.dst.ckpt-'));
      if (left.length) problem(`${op} left ${left.join(', ')} beside the destination`);

      // generations: only a push adds one (its version), only gc removes (never the newest KEEP)
      const added = now.filter((g) => !listed.includes(g));
      const removed = listed.filter((g) => !now.includes(g));
      if (op === 'push') {
        if (added.length > 1) problem(`one push added ${added.length} generations`);
        for (const g of added) versionOf.set(g, version);
        if (outcome.code === 0 && !now.includes(json.generation as string))
          problem(`push reported ${json.generation}, which the store does not list`);
        if (outcome.code !== 0 && added.length) {
          result.committedThoughFailed++;
          log(`${backend} #${i}: push failed but committed ${added[0]}`);
        }
      } else if (added.length) problem(`${op} added generations ${added.join(', ')}`);
      const expirable = op === 'gc' ? listed.slice(0, Math.max(0, listed.length - KEEP)) : [];
      for (const g of removed.filter((g) => !expirable.includes(g))) {
        result.generationsLost++;
        problem(`generation ${g} disappeared after ${op}`);
      }
      listed = now;
      const stats = target.proxy.stats();
      const faults = Object.values(stats.injected).reduce((a, b) => a + b, 0);
      log(
        `${backend} #${i}: ${op} exit ${outcome.hung ? 'hung' : outcome.code} in ${outcome.ms} ms; ` +
          `${faults} faults in ${stats.connections} connections so far` +
          (outcome.code ? `: ${outcome.stderr.trim()}` : ''),
      );
    }
    for (const g of listed) {
      const verified = await ckpt(target.direct, ['verify', 'm', '--generation', g]);
      result.generationsVerified++;
      if (verified.code !== 0) {
        result.generationsLost++;
        result.problems.push(`${backend}: generation ${g} fails a direct verify: ${verified.stderr.trim()}`);
      }
    }
    const { connections, requests, injected } = target.proxy.stats();
    Object.assign(result, { connections, requests, injected });
  } finally {
    await target.stop();
  }
  return result;
}

function lsGenerations(json: Record<string, unknown>): string[] {
  return (json.generations as { generation: string }[]).map((g) => g.generation).sort();
}

function lsCount(json: Record<string, unknown>): number {
  const models = json.models as { model: string; generations: number }[];
  return models.find((m) => m.model === 'm')?.generations ?? 0;
}

/** Sets every file's and folder's times to whole seconds from `base` on: a pull must restore them exactly. */
async function wholeSecondTimes(dir: string, base: number): Promise<void> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  for (const [i, entry] of entries.entries()) {
    if (entry.isSymbolicLink()) continue;
    await utimes(path.join(entry.parentPath, entry.name), base + i, base + i);
  }
}

interface Outcome {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
  /** Killed for running past the limit. */
  hung: boolean;
}

/** Runs `node args…` with `env`, killed after `limitMs`. */
function run(args: string[], env: NodeJS.ProcessEnv, limitMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = Date.now();
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    let hung = false;
    const timer = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started, hung });
    });
  });
}

async function mustRun(args: string[]): Promise<void> {
  const outcome = await run(args, process.env, 120_000);
  if (outcome.code !== 0) throw new Error(`${args.join(' ')}: exit ${outcome.code}: ${outcome.stderr}`);
}
