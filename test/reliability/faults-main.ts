// `pnpm reliability --faults`: the fault campaign on every network backend; prints its figures
// and writes them as JSON.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { BACKENDS, type BackendName } from './faults-backends.js';
import { type BackendResult, runFaultCampaign } from './faults-campaign.js';

const MIN_FAULT_SHARE = 0.05;

/** The share of `result`'s connections that got a fault. */
export function faultShare(result: BackendResult): number {
  const faults = Object.values(result.injected).reduce((a, b) => a + b, 0);
  return result.connections ? faults / result.connections : 0;
}

/** Runs the campaign with the command line's options; resolves to the process's exit code. */
export async function faultsMain(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      faults: { type: 'boolean' },
      ops: { type: 'string', default: '60' },
      seed: { type: 'string', default: '1' },
      size: { type: 'string', default: '16MiB' },
      probability: { type: 'string', default: '0.15' },
      timeout: { type: 'string', default: '2000' },
      backends: { type: 'string', default: BACKENDS.join(',') },
      out: { type: 'string' },
    },
  });
  const work = await mkdtemp(path.join(tmpdir(), 'ckpt-faults-'));
  const started = Date.now();
  try {
    const results = await runFaultCampaign({
      work,
      ops: Number(values.ops),
      seed: Number(values.seed),
      size: values.size,
      probability: Number(values.probability),
      timeoutMs: Number(values.timeout),
      backends: values.backends.split(',') as BackendName[],
      log: (line) => console.log(line),
    });
    const summary = {
      results,
      seed: Number(values.seed),
      size: values.size,
      probability: Number(values.probability),
      timeoutMs: Number(values.timeout),
      seconds: (Date.now() - started) / 1000,
    };
    console.log(JSON.stringify(summary, null, 2));
    if (values.out) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
    // fewer faulty connections than promised is a campaign that proved less than it says
    const thin = results.filter((r) => faultShare(r) < MIN_FAULT_SHARE);
    for (const r of thin)
      console.log(`${r.backend}: faults on ${(100 * faultShare(r)).toFixed(1)} % of connections, under 5 %`);
    return results.some((result) => result.problems.length) || thin.length ? 1 : 0;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
