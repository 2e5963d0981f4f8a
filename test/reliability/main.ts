// `pnpm reliability`: the full kill campaign on each backend; prints its figures and writes them as JSON.
// `pnpm reliability --faults`: the fault campaign instead (faults-main.ts).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeVersions } from './commands.js';
import { faultsMain } from './faults-main.js';
import { type CampaignResult, runKillCampaign } from './kill-campaign.js';
import { BACKENDS, type BackendName, startStore } from './stores.js';

if (process.argv.includes('--faults')) process.exit(await faultsMain(process.argv.slice(2)));

const { values } = parseArgs({
  options: {
    backend: { type: 'string', default: 'all' },
    kills: { type: 'string', default: '120' },
    seed: { type: 'string', default: '1' },
    size: { type: 'string', default: '48MiB' },
    out: { type: 'string' },
  },
});
const backends = values.backend === 'all' ? [...BACKENDS] : [values.backend as BackendName];
if (!backends.every((b) => BACKENDS.includes(b))) {
  console.error(`reliability: --backend ${values.backend}: expected one of ${BACKENDS.join(', ')}, all`);
  process.exit(2);
}
const work = await mkdtemp(path.join(tmpdir(), 'ckpt-reliability-'));
const summary: Record<string, unknown> = { seed: Number(values.seed), size: values.size };
let problems = 0;
try {
  const versions = await makeVersions(work, values.size);
  for (const backend of backends) {
    const started = Date.now();
    const store = await startStore(backend, path.join(work, backend));
    let result: CampaignResult;
    try {
      result = await runKillCampaign({
        store,
        versions,
        work: path.join(work, backend),
        kills: Number(values.kills),
        seed: Number(values.seed),
        reclaim: true,
        log: (line) => console.log(line),
      });
    } finally {
      await store.stop();
    }
    problems += result.problems.length;
    summary[backend] = { ...result, seconds: (Date.now() - started) / 1000 };
    console.log(JSON.stringify({ [backend]: summary[backend] }, null, 2));
    if (values.out) await writeFile(values.out, `${JSON.stringify(summary, null, 2)}\n`);
  }
  process.exitCode = problems ? 1 : 0;
} finally {
  await rm(work, { recursive: true, force: true });
}
