// SIGKILLs at seeded random moments of push, pull and gc, each run as the real `ckpt` command
// on one store; after every kill, the store and the pulled directory are checked: every listed
// generation verifies, a pull yields exactly one of the pushed versions, the directory a killed
// pull was writing is ckpt's own again (no --force needed), nothing is left beside it. At the end,
// gc must reclaim what the killed operations left in the store.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { Checkpoints } from '@ckpt/core';
import { mulberry32 } from '@ckpt/core/testing';
import { treeDigest } from '@ckpt/test-utils';
import { CKPT, type Outcome, run, type Versions } from './commands.js';
import { type Reclaim, reclaim } from './reclaim.js';
import type { CampaignStore } from './stores.js';

export interface CampaignOptions {
  store: CampaignStore;
  versions: Versions;
  /** A folder of this campaign's own: the destination, the state directory, an fs store. */
  work: string;
  kills: number;
  seed: number;
  /** After the last kill, wait until gc has reclaimed what the kills left (minutes: dead leases expire). */
  reclaim?: boolean;
  log?: (line: string) => void;
}

export interface CampaignResult {
  kills: { push: number; pull: number; gc: number };
  /** Operations that finished before their kill came. */
  finished: number;
  generationsVerified: number;
  pullsChecked: number;
  /** Bytes of listed generations that failed verify. */
  bytesLost: number;
  /** Problems found: each names the round and what broke. Empty when nothing was lost. */
  problems: string[];
  reclaim?: Reclaim;
}

type Op = 'push' | 'pull' | 'gc';
const GC = ['gc', '--keep', '2', '--grace', '0', '--force'];

export async function runKillCampaign(options: CampaignOptions): Promise<CampaignResult> {
  const { work, store, versions } = options;
  const log = options.log ?? (() => {});
  const random = mulberry32(options.seed);
  await mkdir(work, { recursive: true });
  const env = { PATH: process.env.PATH, CKPT_STATE_DIR: path.join(work, 'state'), ...store.env };
  const dst = path.join(work, 'dst');
  const ckpt = (args: string[], killAfter?: number) =>
    run([CKPT, ...args, '--store', store.url, '--quiet'], env, killAfter);
  const checker = new Checkpoints(await store.open(), { stateDir: env.CKPT_STATE_DIR });
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)]!;
  const argsOf = async (op: Op): Promise<string[]> => {
    if (op === 'push') return ['push', pick(versions.dirs), '--model', 'm'];
    if (op === 'gc') return GC;
    // any generation: the destination holds the latest after every check, so this moves it
    const generations = await checker.generations('m').catch(() => []);
    return ['pull', 'm', dst, ...(generations.length ? ['--generation', pick(generations).generation] : [])];
  };
  const result: CampaignResult = {
    kills: { push: 0, pull: 0, gc: 0 },
    finished: 0,
    generationsVerified: 0,
    pullsChecked: 0,
    bytesLost: 0,
    problems: [],
  };
  const problem = (round: number | string, what: string) => {
    result.problems.push(`#${round}: ${what}`);
    log(`${store.backend} #${round}: PROBLEM ${what}`);
  };
  try {
    // how long each operation takes undisturbed, to aim the kills inside it: measured first, then
    // whenever one finishes before its kill. Each kill widens the estimate by a tenth: an
    // operation grown slower than it (a larger store, a busier machine) would otherwise only ever
    // be killed early, and its last steps (gc's deletes) never.
    const durations = new Map<Op, number>();
    const timed = async (op: Op, at?: number): Promise<Outcome> => {
      const args = await argsOf(op);
      const started = Date.now();
      const outcome = await ckpt(args, at);
      if (outcome === 'finished') durations.set(op, Date.now() - started);
      if (outcome === 'killed') durations.set(op, durations.get(op)! * 1.1);
      return outcome;
    };
    for (const op of ['push', 'push', 'pull', 'gc'] as Op[]) {
      const outcome = await timed(op);
      if (outcome !== 'finished') throw new Error(`${store.backend} probe ${op}: ${outcome}`);
    }
    log(`${store.backend} probe: ${[...durations].map(([op, ms]) => `${op} ${ms} ms`).join(', ')}`);

    let lastKill = Date.now();
    for (let i = 0; result.kills.push + result.kills.pull + result.kills.gc < options.kills; i++) {
      const op: Op = (['push', 'push', 'pull', 'gc'] as Op[])[Math.floor(random() * 4)]!;
      const at = Math.round(random() * durations.get(op)! * 1.1);
      const outcome = await timed(op, at);
      if (outcome === 'finished') result.finished++;
      else if (outcome === 'killed') {
        result.kills[op]++;
        lastKill = Date.now();
      } else problem(i, `${op} failed without a kill: ${outcome}`);
      const verified = await verifyAll(i, op);
      await pullAndCheck(i, `after a killed ${op}`);
      log(`${store.backend} #${i}: ${op} ${outcome} at ${at} ms; ${verified} generation(s) verified`);
    }
    if (options.reclaim) {
      result.reclaim = await reclaim(store, checker.store, () => ckpt(GC), lastKill, log);
      for (const line of result.reclaim.problems) problem('reclaim', line);
    }
  } finally {
    await checker.close();
  }
  return result;

  /** Every generation the store lists is complete. */
  async function verifyAll(round: number, op: Op): Promise<number> {
    const generations = await checker.generations('m').catch(() => []);
    for (const g of generations) {
      const report = await checker.verify('m', { generation: g.generation });
      result.generationsVerified++;
      if (report.ok) continue;
      result.bytesLost += g.bytes;
      problem(
        round,
        `after a killed ${op}: generation ${g.generation} fails verify: ${report.problems[0]?.problem}`,
      );
    }
    return generations.length;
  }

  /** The pull destination is ckpt's own again, whatever was killed: a plain pull replaces it. */
  async function pullAndCheck(round: number, when: string): Promise<void> {
    const pulled: Outcome = await ckpt(['pull', 'm', dst]);
    if (pulled !== 'finished') return problem(round, `the pull ${when} failed: ${pulled}`);
    result.pullsChecked++;
    if (!versions.digests.has(await treeDigest(dst)))
      problem(round, `${when}: the pulled tree is none of the pushed versions`);
    const left = (await readdir(work)).filter((name) => name.startsWith('.dst.ckpt-'));
    if (left.length) problem(round, `${when}: ${left.join(', ')} left beside the destination`);
  }
}
