export { runConformance } from './run-conformance.js';
export type {
  ConformanceGroup,
  ConformanceOptions,
  ConformanceTarget,
  RawReader,
  TestApi,
} from './types.js';
