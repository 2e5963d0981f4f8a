/**
 * `@ckpt/bench`: the synthetic checkpoint workload (also at `@ckpt/bench/workload`) and the
 * benchmark behind `pnpm bench` (see docs/benchmarks.md).
 */
export { BENCH_USAGE, parseBenchArgs, SWEEP_FRACTIONS } from './bench/args.js';
export { benchMain } from './bench/main.js';
export { computeRatios } from './bench/ratios.js';
export { replaceResults, resultsMarkdown } from './bench/report-md.js';
export { renderSvg, resultsSvg } from './bench/report-svg.js';
export { renderMarkdown, renderText, resultsTable } from './bench/report-table.js';
export { parseStatusMemory, processTree, runSampled } from './bench/rss.js';
export { aggregate, median } from './bench/stats.js';
export type {
  BenchArgs,
  BenchResults,
  MachineInfo,
  Measurement,
  OpOutcome,
  OpSpec,
  Ratio,
  Row,
  Scenario,
  Tool,
} from './bench/types.js';
export * from './workload/index.js';
