// A fast subset of `pnpm reliability`: kills at seeded random moments of push, pull and gc.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { runKillCampaign } from './reliability/kill-campaign.js';

it('push, pull and gc killed at random moments: nothing committed is lost, nothing half-written shows', async () => {
  const work = await mkdtemp(path.join(tmpdir(), 'ckpt-kills-'));
  try {
    const result = await runKillCampaign({ work, kills: 9, seed: 20261206, size: '24MiB' });
    expect(result.problems).toEqual([]);
    expect(result.kills.push + result.kills.pull + result.kills.gc).toBe(9);
    expect(result.pullsChecked).toBeGreaterThan(8);
    expect(result.generationsVerified).toBeGreaterThan(0);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}, 300_000);
