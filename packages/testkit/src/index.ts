export { runConformance } from './run-conformance.js';
export type {
  BackendTarget,
  ConformanceGroup,
  ConformanceOptions,
  ConformanceTarget,
  RawReader,
  StoreTarget,
  TestApi,
} from './types.js';
