// The real `ckpt` command and the workload generator, run as child processes.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeDigest } from '@ckpt/test-utils';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CKPT = path.join(ROOT, 'packages/cli/bin/ckpt.js');
const GEN = path.join(ROOT, 'packages/bench/bin/gen-workload.mjs');

export type Outcome = 'finished' | 'killed' | string;

/** A command that runs this long has hung: it is killed and reported. */
const HUNG_MS = 600_000;

/** Runs `node args…`; with `killAfter`, sends it SIGKILL that many ms after it started. */
export function run(args: string[], env: NodeJS.ProcessEnv, killAfter?: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
    let hung = false;
    const watchdog = setTimeout(() => {
      hung = true;
      child.kill('SIGKILL');
    }, HUNG_MS);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(watchdog);
      if (hung) resolve(`hung: no exit after ${HUNG_MS / 1000} s`);
      else if (signal === 'SIGKILL') resolve('killed');
      else resolve(code === 0 ? 'finished' : `exit ${code ?? signal}: ${stderr.trim()}`);
    });
  });
}

/** The checkpoint versions a campaign pushes, and which version each tree digest is. */
export interface Versions {
  dirs: string[];
  digests: Map<string, number>;
}

/** Generates four versions of a CRIU-like checkpoint of `size` each under `work`. */
export async function makeVersions(work: string, size: string): Promise<Versions> {
  const dirs = [1, 2, 3, 4].map((v) => path.join(work, `v${v}`));
  const digests = new Map<string, number>();
  for (const [i, dir] of dirs.entries()) {
    const outcome = await run([GEN, dir, '--size', size, '--version', String(i), '--seed', '7'], process.env);
    if (outcome !== 'finished') throw new Error(`gen-workload ${dir}: ${outcome}`);
    digests.set(await treeDigest(dir), i + 1);
  }
  return { dirs, digests };
}
