/**
 * `@ckpt/test-utils` (private): the helpers ckpt's tests share, one copy each. No workspace
 * package but `@ckpt/test-servers` is a dependency, so that every package's tests, core's
 * included, can use it without a cycle.
 */
export { seededBytes } from './bytes.js';
export { type MinioFixture, useMinio } from './minio.js';
export { plaintextRuns } from './plaintext-runs.js';
export { useTempDir } from './temp.js';
export {
  type CheckpointOptions,
  makeCheckpoint,
  readTree,
  type TreeEntry,
  type TreeOptions,
  treeDigest,
} from './tree.js';
