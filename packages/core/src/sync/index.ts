export { Checkpoints, type CheckpointsOptions, DEFAULT_GRACE_MS } from './checkpoints.js';
export { defaultStateDir, type RecordKind, statePath as localRecordPath } from './local-state.js';
export { isGenerationId, validateModel } from './names.js';
export type * from './types.js';
