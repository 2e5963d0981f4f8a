import { ratiosTable, renderMarkdown, resultsTable, scalingTable, sweepTable } from './report-table.js';
import { formatBytes } from './stats.js';
import type { BenchResults } from './types.js';

/** Markers around the generated part of docs/benchmarks.md; everything else is kept as written. */
export const RESULTS_START = '<!-- bench:results:start -->';
export const RESULTS_END = '<!-- bench:results:end -->';

/** The results of one run as markdown: machine, method, ratios against the targets, tables, chart. */
export function resultsMarkdown(results: BenchResults, chartPath: string): string {
  const { machine: m, args } = results;
  const load = (l: number[] | undefined) => (l ? l.map((v) => v.toFixed(1)).join(' / ') : '-');
  const main = results.workloads.find((w) => w.name === `v0-${args.sizeBytes}`);
  const caches = String(args.cache);
  const lines = [
    `### Run of ${results.date.replace('T', ' ').slice(0, 16)} UTC`,
    '',
    `- Machine: ${m.cpus} × ${m.cpuModel}, ${formatBytes(m.memoryBytes)} RAM, disk ${m.disk}, ` +
      `Node ${m.node}, ${m.kernel}.`,
    `- Load average (1/5/15 min) at start ${load(m.loadAverageStart)}, at end ${load(m.loadAverageEnd)}: ` +
      'the machine is shared, other work runs on the same two cores; every figure is the median of ' +
      `${args.runs} run(s), min–max in the full table.`,
    `- Engine: ${
      m.engine
        ? `commit ${m.engine.commit}${m.engine.dirty ? ' with uncommitted engine changes' : ''}, ` +
          `build ${m.engine.hash} (core and the adapters copied at the start: every run measured that build)`
        : 'not recorded'
    }.`,
    `- Tools: ${Object.entries(m.tools)
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ')}.`,
    `- Workload: seed ${args.seed}` +
      (main
        ? `, ${formatBytes(main.bytes)} in ${main.files} files, ` +
          `${((main.zeroBytes / main.bytes) * 100).toFixed(0)} % zero pages`
        : '') +
      `; page cache: ${caches} (${m.dropCaches ? 'drop_caches works here' : 'drop_caches not permitted'}).`,
    `- Wall time is process start to exit for every tool (ckpt runs each operation in a child ` +
      "process); peak RSS is that process tree's. Total benchmark time " +
      `${(results.durationMs / 60_000).toFixed(1)} min.`,
    '',
    '#### Against the targets of issues 6 (fs, S3), 21 (Azure) and 22 (GCS)',
    '',
    renderMarkdown(ratiosTable(results.ratios)),
    '',
    `![ckpt against cp -r, aws s3 sync, rclone copy, s5cmd sync, restic and azcopy copy](${chartPath})`,
    '',
    '#### Every operation',
    '',
    renderMarkdown(resultsTable(results.rows)),
  ];
  const sweep = sweepTable(results.rows);
  if (sweep.cells.length)
    lines.push('', '#### Rewrite-fraction sweep (push of the next version)', '', renderMarkdown(sweep));
  const scaling = scalingTable(results.rows);
  if (scaling.cells.length) lines.push('', '#### Scaling', '', renderMarkdown(scaling));
  return `${lines.join('\n')}\n`;
}

/** `doc` with the text between the result markers replaced by `section`; throws when a marker is missing. */
export function replaceResults(doc: string, section: string): string {
  const start = doc.indexOf(RESULTS_START);
  const end = doc.indexOf(RESULTS_END);
  if (start < 0 || end < start) {
    throw new Error(`docs/benchmarks.md lacks the markers ${RESULTS_START} … ${RESULTS_END}`);
  }
  return `${doc.slice(0, start + RESULTS_START.length)}\n\n${section.trim()}\n\n${doc.slice(end)}`;
}
