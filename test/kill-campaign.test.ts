// A fast subset of `pnpm reliability`: kills at seeded random moments of push, pull and gc on each
// backend with a local server. The final reclaim check (minutes of waiting for dead leases) is
// the full campaign's.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { makeVersions, type Versions } from './reliability/commands.js';
import { runKillCampaign } from './reliability/kill-campaign.js';
import { BACKENDS, startStore } from './reliability/stores.js';

let work: string;
let versions: Versions;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-kills-'));
  versions = await makeVersions(work, '16MiB');
}, 120_000);
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it.each(BACKENDS)(
  '%s: push, pull and gc killed at random moments: nothing committed is lost, nothing half-written shows',
  async (backend) => {
    const store = await startStore(backend, path.join(work, backend));
    try {
      const kills = 3;
      const result = await runKillCampaign({
        store,
        versions,
        work: path.join(work, backend),
        kills,
        seed: 20261206,
      });
      expect(result.problems).toEqual([]);
      expect(result.kills.push + result.kills.pull + result.kills.gc).toBe(kills);
      expect(result.pullsChecked).toBeGreaterThanOrEqual(kills);
      expect(result.generationsVerified).toBeGreaterThan(0);
    } finally {
      await store.stop();
    }
  },
  300_000,
);
