// Store layers: ObjectStores that wrap any ObjectStore (events and metrics), and the fault
// backend that tests put under a store.
export type { StoreEvent, StoreListener } from './events.js';
export { EventsLayer, withEvents } from './events.js';
export type { FaultCounts, FaultOptions } from './faults.js';
export { FaultBackend, withFaults } from './faults.js';
export { STORE_OPS, StoreLayer } from './layer.js';
export type { MetricsSnapshot, OpStats, StoreMetricsOptions } from './metrics.js';
export { StoreMetrics } from './metrics.js';
export type { Random } from './random.js';
export { mulberry32 } from './random.js';
export type { Sleep } from './sleep.js';
