// Store layers: ObjectStores that wrap any ObjectStore (retry, concurrency limit, events/metrics,
// fault injection). They compose: `withEvents(withRetry(withConcurrency(store, 8)), metrics.listener)`.
export { ConcurrencyLayer, withConcurrency } from './concurrency.js';
export type { StoreEvent, StoreListener } from './events.js';
export { EventsLayer, withEvents } from './events.js';
export type { FaultCounts, FaultOptions } from './faults.js';
export { FaultLayer, withFaults } from './faults.js';
export type { StoreOp } from './layer.js';
export { STORE_OPS, StoreLayer } from './layer.js';
export type { MetricsSnapshot, OpStats, StoreMetricsOptions } from './metrics.js';
export { StoreMetrics } from './metrics.js';
export type { Random } from './random.js';
export { mulberry32 } from './random.js';
export type { RetryEvent, RetryOptions } from './retry.js';
export { isRetryable, RetryLayer, withRetry } from './retry.js';
export type { Sleep } from './sleep.js';
