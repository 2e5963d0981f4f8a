// A fast subset of `pnpm reliability --faults`: a handful of ckpt commands per network backend
// through a proxy that resets, cuts, stalls and throttles a seeded share of the connections.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { BACKENDS } from './reliability/faults-backends.js';
import { type BackendResult, runFaultCampaign } from './reliability/faults-campaign.js';

let work: string;
let results: BackendResult[];

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-faults-'));
  results = await runFaultCampaign({ work, ops: 6, seed: 20261207, size: '4MiB', probability: 0.3 });
}, 600_000);
afterAll(() => rm(work, { recursive: true, force: true }));

it.each(BACKENDS)(
  '%s: every command through the faulty proxy succeeds exactly or fails cleanly, never hangs',
  (backend) => {
    const result = results.find((r) => r.backend === backend)!;
    expect(result.problems).toEqual([]);
    expect(result.hung).toBe(0);
    expect(result.generationsLost).toBe(0);
    expect(result.succeeded + result.failedCleanly).toBe(6);
    expect(result.generationsVerified).toBeGreaterThan(0);
    expect(Object.values(result.injected).reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
  },
);
