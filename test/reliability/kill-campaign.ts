// SIGKILLs at seeded random moments of push, pull and gc, each run as the real `ckpt` command
// on a filesystem store; after every kill, the store and the pulled directory are checked:
// every listed generation verifies, a pull yields exactly one of the pushed versions, the
// directory a killed pull was writing is ckpt's own again (no --force needed), nothing is left.
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checkpoints } from '@ckpt/core';
import { mulberry32 } from '@ckpt/core/testing';
import { FsStore } from '@ckpt/fs';
import { treeDigest } from '@ckpt/test-utils';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CKPT = path.join(ROOT, 'packages/cli/bin/ckpt.js');
const GEN = path.join(ROOT, 'packages/bench/bin/gen-workload.mjs');

export interface CampaignOptions {
  work: string;
  kills: number;
  seed: number;
  /** Size of each checkpoint version. */
  size?: string;
  log?: (line: string) => void;
}

export interface CampaignResult {
  kills: { push: number; pull: number; gc: number };
  /** Operations that finished before their kill came. */
  finished: number;
  generationsVerified: number;
  pullsChecked: number;
  /** Problems found: each names the iteration and what broke. Empty when nothing was lost. */
  problems: string[];
}

type Op = 'push' | 'pull' | 'gc';

export async function runKillCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const { work, seed } = options;
  const log = options.log ?? (() => {});
  const random = mulberry32(seed);
  const env = { PATH: process.env.PATH, CKPT_STATE_DIR: path.join(work, 'state') };
  const store = path.join(work, 'store');
  const dst = path.join(work, 'dst');
  const versions = [1, 2, 3, 4].map((v) => path.join(work, `v${v}`));
  const digests = new Map<string, number>();
  for (const [i, dir] of versions.entries()) {
    await mustRun([GEN, dir, '--size', options.size ?? '48MiB', '--version', String(i), '--seed', '7']);
    digests.set(await treeDigest(dir), i + 1);
  }
  const ckpt = (args: string[], killAfter?: number) =>
    run([CKPT, ...args, '--store', store, '--quiet'], env, killAfter);
  const checker = new Checkpoints(new FsStore({ root: store }), { stateDir: env.CKPT_STATE_DIR });
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const argsOf = async (op: Op): Promise<string[]> => {
    if (op === 'push') return ['push', pick(versions), '--model', 'm'];
    if (op === 'gc') return ['gc', '--keep', '2', '--grace', '0', '--force'];
    // any generation: the destination holds the latest after every check, so this moves it
    const generations = await checker.generations('m').catch(() => []);
    return ['pull', 'm', dst, ...(generations.length ? ['--generation', pick(generations).generation] : [])];
  };
  // how long each operation takes undisturbed, to aim the kills inside it
  const durations = new Map<Op, number>();
  for (const op of ['push', 'push', 'pull', 'gc'] as Op[]) {
    const started = Date.now();
    const outcome = await ckpt(await argsOf(op));
    if (outcome !== 'finished') throw new Error(`probe ${op}: ${outcome}`);
    durations.set(op, Math.max(durations.get(op) ?? 0, Date.now() - started));
  }
  log(
    `probe: push ${durations.get('push')} ms, pull ${durations.get('pull')} ms, gc ${durations.get('gc')} ms`,
  );

  const result: CampaignResult = {
    kills: { push: 0, pull: 0, gc: 0 },
    finished: 0,
    generationsVerified: 0,
    pullsChecked: 0,
    problems: [],
  };
  const problem = (iteration: number, what: string) => {
    result.problems.push(`#${iteration}: ${what}`);
    log(`#${iteration}: PROBLEM ${what}`);
  };
  try {
    for (let i = 0; result.kills.push + result.kills.pull + result.kills.gc < options.kills; i++) {
      const op: Op = (['push', 'push', 'pull', 'gc'] as Op[])[Math.floor(random() * 4)]!;
      const at = Math.round(random() * durations.get(op)! * 1.1);
      const outcome = await ckpt(await argsOf(op), at);
      if (outcome === 'finished') result.finished++;
      else if (outcome === 'killed') result.kills[op]++;
      else problem(i, `${op} failed without a kill: ${outcome}`);

      // every generation the store lists is complete
      const generations = await checker.generations('m').catch(() => []);
      for (const g of generations) {
        const report = await checker.verify('m', { generation: g.generation });
        result.generationsVerified++;
        if (!report.ok)
          problem(
            i,
            `after a killed ${op}: generation ${g.generation} fails verify: ${report.problems[0]?.problem}`,
          );
      }
      // the pull destination is ckpt's own again, whatever was killed: a plain pull replaces it
      const pulled = await ckpt(['pull', 'm', dst]);
      if (pulled !== 'finished') problem(i, `the pull after a killed ${op} failed: ${pulled}`);
      else {
        result.pullsChecked++;
        if (!digests.has(await treeDigest(dst)))
          problem(i, `after a killed ${op}: the pulled tree is none of the pushed versions`);
        const left = (await readdir(work)).filter((name) => name.startsWith('.dst.ckpt-'));
        if (left.length) problem(i, `after a killed ${op}: ${left.join(', ')} left beside the destination`);
      }
      log(`#${i}: ${op} ${outcome} at ${at} ms; ${generations.length} generation(s) verified`);
    }
  } finally {
    await checker.close();
  }
  return result;
}

/** Runs `node args…`; with `killAfter`, sends it SIGKILL that many ms after it started. */
function run(
  args: string[],
  env: NodeJS.ProcessEnv,
  killAfter?: number,
): Promise<'finished' | 'killed' | string> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(signal === 'SIGKILL' ? 'killed' : code === 0 ? 'finished' : `exit ${code}: ${stderr.trim()}`);
    });
  });
}

async function mustRun(args: string[]): Promise<void> {
  const outcome = await run(args, process.env);
  if (outcome !== 'finished') throw new Error(`${args.join(' ')}: ${outcome}`);
}
