import { StoreError } from '@ckpt/core';
import { layoutVersion0 } from './layout.js';
import type { CheckpointPlan } from './model.js';
import { mutateOtherFiles } from './mutate-files.js';
import { mutatePagesFiles } from './mutate-pages.js';
import { resolveWorkloadOptions, type WorkloadConfig, type WorkloadOptions } from './options.js';
import { checkSeed, Rng, type WorkloadSeed } from './rng.js';

/** Largest version number accepted (each version costs one pass over the model). */
export const MAX_VERSION = 10_000;

/**
 * Version n + 1 of a plan (a re-checkpoint of the same model), computed from the plan alone and
 * deterministic: see `WorkloadOptions` for the knobs of each change.
 */
export function nextVersion(plan: CheckpointPlan): CheckpointPlan {
  const rngFor = (...purpose: (string | number)[]) =>
    new Rng(plan.seed, 'mutate', plan.version + 1, ...purpose);
  const next: CheckpointPlan = {
    ...plan,
    version: plan.version + 1,
    files: [],
    processes: plan.processes.map((p) => ({ pid: p.pid, tids: [...p.tids] })),
  };
  const pages = mutatePagesFiles(
    next,
    rngFor,
    plan.files.filter((f) => f.group === 'pages'),
  );
  const others = mutateOtherFiles(
    next,
    rngFor,
    plan.files.filter((f) => f.group !== 'pages'),
  );
  next.files = [...pages, ...others];
  return next;
}

/** Checks a version number. */
export function checkVersion(field: string, version: unknown): number {
  if (typeof version !== 'number' || !Number.isInteger(version) || version < 0 || version > MAX_VERSION) {
    throw new StoreError(
      'InvalidArgument',
      `${field} must be an integer from 0 to ${MAX_VERSION} (got ${String(version)})`,
      {
        operation: 'workload options',
      },
    );
  }
  return version;
}

/**
 * The complete model of version `version` of the workload of `seed`: every file's path, size and
 * page contents, without writing anything. Cheap (milliseconds for a 3 GiB workload).
 *
 * @example
 * ```ts
 * const v1 = planCheckpoint(7, 1, { totalBytes: 64 * 2 ** 20 });
 * console.log(v1.files.map((f) => `${f.path} ${f.size}`));
 * ```
 */
export function planCheckpoint(
  seed: WorkloadSeed,
  version: number,
  options: WorkloadOptions = {},
): CheckpointPlan {
  return planWithConfig(seed, version, resolveWorkloadOptions(options));
}

/** {@link planCheckpoint} with options already resolved. */
export function planWithConfig(seed: WorkloadSeed, version: number, config: WorkloadConfig): CheckpointPlan {
  let plan = layoutVersion0(checkSeed(seed), config);
  for (let v = checkVersion('version', version); plan.version < v; ) plan = nextVersion(plan);
  return plan;
}
