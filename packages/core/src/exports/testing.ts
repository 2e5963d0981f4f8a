// `@ckpt/core/testing`: stores and faults for tests.
export type { FaultCounts, FaultOptions } from '../layers/faults.js';
export { FaultBackend, withFaults } from '../layers/faults.js';
export { mulberry32, type Random } from '../layers/random.js';
export { MemoryBackend, MemoryStore } from '../memory-store.js';
