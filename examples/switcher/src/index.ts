export { type Operation, type Result, SwitcherMetrics, type Transfer } from './metrics.js';
export { serveMetrics } from './serve.js';
export {
  type LoadOptions,
  ModelSwitcher,
  type OperationOptions,
  type Runtime,
  type SwitcherOptions,
} from './switcher.js';
