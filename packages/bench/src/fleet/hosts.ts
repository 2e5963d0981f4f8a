import { fileURLToPath } from 'node:url';
import { runSampled } from '../bench/rss.js';
import type { HostJob, HostOutcome } from './host.js';

const HOST = fileURLToPath(new URL('./host.js', import.meta.url));

/** One host process as the simulation saw it. */
export interface HostRun extends HostOutcome {
  /** Spawn to exit, start-up included. */
  wallMs: number;
  /** Peak RSS of the process (and its threads), sampled. */
  peakRssBytes: number;
}

/**
 * Runs `job` in a host process with `env` (the store's credentials, the host's own state
 * directory) and samples its memory. A host that prints no outcome is one error.
 */
export async function runHost(job: HostJob, env: NodeJS.ProcessEnv): Promise<HostRun> {
  const run = await runSampled(process.execPath, [HOST, JSON.stringify(job)], {
    env: { ...process.env, ...env },
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  let outcome: HostOutcome;
  try {
    outcome = JSON.parse(line) as HostOutcome;
  } catch {
    const why = run.stderr.trim().split('\n').at(-1) ?? `exit ${run.exitCode ?? run.signal}`;
    outcome = {
      opMs: 0,
      cpuMs: 0,
      requests: 0,
      bytesIn: 0,
      bytesOut: 0,
      throttled: 0,
      maxRssBytes: 0,
      errors: [why],
      figures: {},
    };
  }
  return { ...outcome, wallMs: run.wallMs, peakRssBytes: Math.max(run.peakRssBytes, outcome.maxRssBytes) };
}
