// `pnpm reliability`: the full kill campaign; prints its figures and writes them as JSON.
// `pnpm reliability --faults`: the fault campaign instead (faults-main.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { faultsMain } from './faults-main.js';
import { runKillCampaign } from './kill-campaign.js';

if (process.argv.includes('--faults')) process.exit(await faultsMain(process.argv.slice(2)));

const { values } = parseArgs({
  options: {
    kills: { type: 'string', default: '120' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string', default: '48MiB' },
    out: { type: 'string' },
  },
});
const work = await mkdtemp(path.join(tmpdir(), 'ckpt-reliability-'));
const started = Date.now();
try {
  const result = await runKillCampaign({
    work,
    kills: Number(values.kills),
    seed: Number(values.seed),
    size: values.size,
    log: (line) => console.log(line),
  });
  const summary = {
    ...result,
    seed: Number(values.seed),
    size: values.size,
    seconds: (Date.now() - started) / 1000,
  };
  console.log(JSON.stringify(summary, null, 2));
  if (values.out) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
  process.exitCode = result.problems.length ? 1 : 0;
} finally {
  await rm(work, { recursive: true, force: true });
}
