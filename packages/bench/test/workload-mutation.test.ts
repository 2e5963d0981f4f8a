import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  type CheckpointPlan,
  generateCheckpoint,
  nextVersion,
  oracleOfPlans,
  PAGE_BYTES,
  type PlannedFile,
  planCheckpoint,
  type WorkloadOptions,
} from '../src/workload/index.js';

// Plans are cheap: these tests use the full 3 GiB default model without writing it.
const QUIET: WorkloadOptions = {
  rewriteFraction: 0,
  zeroToDataFraction: 0,
  dataToZeroFraction: 0,
  inserts: 0,
  deletes: 0,
};

function pagesOf(plan: CheckpointPlan, kind: 'zero' | 'data'): number {
  let n = 0;
  for (const f of plan.files.filter((f) => f.group === 'pages')) {
    for (const s of f.segments) if ((s.kind === 'zero') === (kind === 'zero')) n += s.pages;
  }
  return n;
}

const byPath = (plan: CheckpointPlan) => new Map(plan.files.map((f) => [f.path, f]));

describe('next version', () => {
  it('is computed from the model alone, deterministically', () => {
    const v0 = planCheckpoint(9, 0);
    expect(planCheckpoint(9, 2)).toEqual(nextVersion(nextVersion(v0)));
    expect(planCheckpoint(9, 1)).toEqual(planCheckpoint(9, 1));
    expect(planCheckpoint(9, 1)).not.toEqual(planCheckpoint(10, 1));
  });

  it('does not change version 0 when a mutation knob changes', () => {
    const a = planCheckpoint(9, 0, { rewriteFraction: 0.01 });
    const b = planCheckpoint(9, 0, { rewriteFraction: 1, pidChurn: true, inserts: 9 });
    expect(b.files).toEqual(a.files);
  });

  it.each([0, 1, 5, 20, 100])('rewrites about %i %% of the data pages', (percent) => {
    const rewriteFraction = percent / 100;
    const options = { ...QUIET, rewriteFraction };
    const v0 = planCheckpoint(4, 0, options);
    const v1 = nextVersion(v0);
    const fresh = oracleOfPlans(v0, v1).newPagesBytes / PAGE_BYTES;
    const data = pagesOf(v0, 'data');
    expect(Math.abs(fresh / data - rewriteFraction)).toBeLessThanOrEqual(
      Math.max(0.005, rewriteFraction * 0.15),
    );
    if (rewriteFraction === 1) expect(fresh).toBe(data);
    expect(pagesOf(v1, 'data')).toBe(data); // rewriting keeps data data
  });

  it('rewrites in clustered runs of about 64 pages', () => {
    const v0 = planCheckpoint(4, 0, { ...QUIET, rewriteFraction: 0.05 });
    const v1 = nextVersion(v0);
    const before = new Set(v0.files.flatMap((f) => f.segments.map((s) => s.stream)));
    const runs = v1.files
      .filter((f) => f.group === 'pages')
      .flatMap((f) =>
        f.segments.filter((s) => s.kind !== 'zero' && !before.has(s.stream)).map((s) => s.pages),
      );
    const mean = runs.reduce((a, b) => a + b, 0) / runs.length;
    expect(mean).toBeGreaterThan(20); // runs are cut where they cross zero regions
    expect(mean).toBeLessThan(80);
  });

  it('turns about 2 % of zero pages into data and 1 % of data pages into zero', () => {
    const v0 = planCheckpoint(4, 0, QUIET);
    const toData = nextVersion(planCheckpoint(4, 0, { ...QUIET, zeroToDataFraction: 0.02 }));
    expect(1 - pagesOf(toData, 'zero') / pagesOf(v0, 'zero')).toBeCloseTo(0.02, 2);
    const toZero = nextVersion(planCheckpoint(4, 0, { ...QUIET, dataToZeroFraction: 0.01 }));
    expect(1 - pagesOf(toZero, 'data') / pagesOf(v0, 'data')).toBeCloseTo(0.01, 2);
  });

  it('inserts and deletes page-aligned regions that shift what follows', () => {
    const v0 = planCheckpoint(4, 0, QUIET);
    const v1 = nextVersion(planCheckpoint(4, 0, { ...QUIET, inserts: 3, deletes: 1 }));
    const pages = (p: CheckpointPlan) => p.files.filter((f) => f.group === 'pages');
    const grown = pages(v1).map((f, i) => f.size - pages(v0)[i]!.size);
    expect(grown.some((d) => d !== 0)).toBe(true);
    for (const d of grown) expect(Math.abs(d) % PAGE_BYTES).toBe(0);
    const changed = pages(v1).find((f, i) => f.size !== pages(v0)[i]!.size)!;
    // Same streams, at other offsets: a fixed-offset comparison sees a change, the oracle does not.
    expect(changed.segments).not.toEqual(byPath(v0).get(changed.path)!.segments);
    const oracle = oracleOfPlans(v0, v1);
    expect(oracle.newPagesBytes).toBeLessThanOrEqual(3 * 64 * 2 ** 20);
  });

  it('rewrites 80 % of the small files and churns 5 % of them', () => {
    const v0 = planCheckpoint(4, 0);
    const v1 = nextVersion(v0);
    const small0 = v0.files.filter((f) => f.group === 'small');
    const old = byPath(v0);
    const small1 = v1.files.filter((f) => f.group === 'small');
    const kept = small1.filter((f) => old.has(f.path));
    const removed = small0.length - kept.length;
    const added = small1.length - kept.length;
    expect(removed).toBe(Math.round(0.05 * small0.length));
    expect(added).toBe(removed);
    const rewritten = kept.filter(
      (f) => f.size > 0 && f.segments[0]!.stream !== old.get(f.path)!.segments[0]!.stream,
    );
    expect(rewritten.length / kept.filter((f) => f.size > 0).length).toBeCloseTo(0.8, 2);
  });

  it('keeps 30 %, changes the tail of 50 % and replaces 20 % of the medium files', () => {
    const v0 = planCheckpoint(4, 0);
    const v1 = nextVersion(v0);
    const old = byPath(v0);
    const medium = v1.files.filter((f) => (f.group === 'medium' || f.group === 'rootfs') && f.size > 0);
    const fate = (f: PlannedFile) => {
      const before = old.get(f.path)!;
      if (f.size === before.size && f.segments === before.segments) return 'same';
      return f.segments[0]!.stream === before.segments[0]!.stream ? 'tail' : 'replaced';
    };
    const count = (name: string) => medium.filter((f) => fate(f) === name).length / medium.length;
    expect(count('same')).toBeCloseTo(0.3, 1);
    expect(count('tail') + count('replaced')).toBeCloseTo(0.7, 1);
    expect(count('replaced')).toBeGreaterThan(0.1);
    expect(count('replaced')).toBeLessThan(0.3);
  });

  it('renames every per-process and per-thread file under PID churn', () => {
    const v0 = planCheckpoint(4, 0, { pidChurn: true });
    const v1 = nextVersion(v0);
    const owned = (p: CheckpointPlan) => p.files.filter((f) => f.owner).map((f) => f.path);
    const after = new Set(owned(v1));
    expect(owned(v0).filter((p) => after.has(p))).toEqual([]);
    expect(after.size).toBe(owned(v0).length);
    const calm = nextVersion(planCheckpoint(4, 0));
    const still = new Set(owned(calm));
    expect(owned(v0).filter((p) => still.has(p)).length).toBeGreaterThan(0.9 * owned(v0).length);
  });
});

describe('next version on disk', () => {
  it('an inserted region shifts the bytes after it, page-aligned', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ckpt-workload-shift-'));
    try {
      const options = { ...QUIET, seed: 8, totalBytes: 8 * 2 ** 20, inserts: 1 };
      await generateCheckpoint(join(root, 'v0'), options);
      await generateCheckpoint(join(root, 'v1'), { ...options, version: 1 });
      let shifted = 0;
      for (const name of ['pages-1.img', 'pages-2.img', 'pages-3.img']) {
        const [a, b] = await Promise.all(['v0', 'v1'].map((v) => readFile(join(root, v, name))));
        if (a!.length === b!.length) {
          expect(a!.equals(b!), name).toBe(true);
          continue;
        }
        shifted++;
        const inserted = b!.length - a!.length;
        expect(inserted % PAGE_BYTES).toBe(0);
        let prefix = 0;
        while (prefix < a!.length && a![prefix] === b![prefix]) prefix++;
        let suffix = 0;
        while (suffix < a!.length && a![a!.length - 1 - suffix] === b![b!.length - 1 - suffix]) suffix++;
        // b is a with `inserted` bytes put in somewhere: its head and tail cover all of a.
        expect(prefix + suffix).toBeGreaterThanOrEqual(a!.length);
        // and past the insertion point nothing is where it was.
        const at = Math.floor(prefix / PAGE_BYTES) * PAGE_BYTES + inserted;
        expect(a!.subarray(at).equals(b!.subarray(at, a!.length))).toBe(false);
      }
      expect(shifted).toBe(1);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
