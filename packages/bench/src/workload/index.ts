/**
 * A deterministic, streaming generator of synthetic CRIU-like checkpoint directories, their next
 * versions under a mutation model, and the oracle of truly new bytes between versions.
 * See `packages/bench/README.md`.
 */

export { parseSize } from '@ckpt/core/cli';
export type { GenWorkloadArgs } from './cli.js';
export { GEN_WORKLOAD_USAGE, genWorkloadMain, parseGenWorkloadArgs } from './cli.js';
export type { GenerateOptions, GenerateResult } from './generate.js';
export { generateCheckpoint } from './generate.js';
export type { CheckpointPlan, FileGroup, PlannedFile, ProcessInfo } from './model.js';
export type {
  ByteRange,
  FileGroupOptions,
  MediumChangeMix,
  PageMix,
  SmallFilesOptions,
  WorkloadConfig,
  WorkloadOptions,
  WorkloadPreset,
} from './options.js';
export { PAGE_BYTES, PRESETS, resolveWorkloadOptions } from './options.js';
export type { OracleResult } from './oracle.js';
export { oracle, oracleOfPlans } from './oracle.js';
export type { ContentContext, PageKind, Segment } from './page-content.js';
export { chunkBuffers, contentContext, fileChunks } from './page-content.js';
export { MAX_VERSION, nextVersion, planCheckpoint } from './plan.js';
export type { WorkloadSeed } from './rng.js';
export {
  generateSharedBase,
  generateSharedBaseModel,
  type SharedBase,
  type SharedBaseModel,
} from './shared-base.js';
export type { CheckpointSummary } from './summary.js';
export { summarizePlan } from './summary.js';
