import { secondsPerGiB } from './ratios.js';
import { formatBytes, formatRate, formatRatio, formatSeconds, ratio } from './stats.js';
import type { Ratio, Row, Scenario } from './types.js';

/** A table: header cells and rows of cells. */
export interface Table {
  headers: string[];
  cells: string[][];
  /** Columns aligned right (numbers). */
  right: number[];
}

/** How scenarios read in tables and charts. */
export const SCENARIO_NAMES: Record<Scenario, string> = {
  'full-push': 'full push',
  'unchanged-push': 're-push unchanged',
  'next-push': 'push next version',
  'fresh-pull': 'fresh pull',
  'pull-over-previous': 'pull over previous',
  'sweep-push': 'push next (sweep)',
  'raw-put': 'raw SDK put',
  'raw-get': 'raw SDK get',
};

/**
 * Every row: wall time (median, min–max), logical MiB/s, peak RSS, requests, bytes, stored/oracle,
 * and the cores the store's server kept busy meanwhile (its CPU time over the wall time, median).
 */
export function resultsTable(rows: Row[]): Table {
  return {
    headers: [
      'backend',
      'cache',
      'operation',
      'tool',
      'workload',
      'runs',
      'wall s (median)',
      'min–max s',
      'MiB/s',
      'peak RSS',
      'requests',
      'sent',
      'received',
      'stored (/ oracle)',
      'server cores',
    ],
    right: [5, 6, 7, 8, 9, 10, 11, 12, 13, 14],
    cells: rows.map((r) => [
      r.backend,
      r.cache,
      SCENARIO_NAMES[r.scenario],
      r.tool,
      r.workload,
      r.failures ? `${r.runs - r.failures}/${r.runs} ok` : String(r.runs),
      formatSeconds(r.medianWallMs),
      `${formatSeconds(r.minWallMs)}–${formatSeconds(r.maxWallMs)}`,
      formatRate(r.logicalBytes, r.medianWallMs),
      formatBytes(r.peakRssBytes),
      r.requests === undefined ? '-' : String(Math.round(r.requests)),
      formatBytes(r.bytesSent),
      formatBytes(r.bytesReceived),
      r.oracleBytes
        ? `${formatBytes(r.bytesStored)} / ${formatBytes(r.oracleBytes)}`
        : r.bytesStored === undefined
          ? '-'
          : formatBytes(r.bytesStored),
      r.medianServerCores === undefined ? '-' : r.medianServerCores.toFixed(2),
    ]),
  };
}

/**
 * The ratios against their targets: one line per backend and measure, one column per cache mode,
 * each value followed by its verdict (`✓` met, `✗` missed; none without a target).
 */
export function ratiosTable(ratios: Ratio[]): Table {
  const caches = [...new Set(ratios.map((r) => r.cache))];
  const lines = new Map<string, Map<string, Ratio>>();
  for (const r of ratios) {
    const key = `${r.backend}|${r.label}`;
    if (!lines.has(key)) lines.set(key, new Map());
    lines.get(key)!.set(r.cache, r);
  }
  const value = (r: Ratio | undefined) => {
    if (!r) return '';
    const text =
      r.unit === 'MiB'
        ? `${r.value.toFixed(0)} MiB`
        : r.unit === 's'
          ? `${r.value.toFixed(2)} s`
          : formatRatio(r.value);
    return r.pass === undefined ? text : `${text} ${r.pass ? '✓' : '✗'}`;
  };
  return {
    headers: ['backend', 'measure', 'target', ...caches],
    right: caches.map((_, i) => i + 3),
    cells: [...lines.values()].map((byCache) => {
      const any = [...byCache.values()][0]!;
      return [
        any.backend,
        any.label,
        any.target ? `${any.target}${any.unit === 'MiB' ? ' MiB' : ''}` : '',
        ...caches.map((c) => value(byCache.get(c))),
      ];
    }),
  };
}

/** The rewrite sweep: stored bytes against the oracle per fraction. */
export function sweepTable(rows: Row[]): Table {
  const sweep = rows.filter((r) => r.scenario === 'sweep-push');
  return {
    headers: ['backend', 'cache', 'rewrite', 'wall s', 'stored', 'oracle', 'stored / oracle'],
    right: [3, 4, 5, 6],
    cells: sweep.map((r) => [
      r.backend,
      r.cache,
      r.workload.replace('rewrite-', ''),
      formatSeconds(r.medianWallMs),
      formatBytes(r.bytesStored),
      formatBytes(r.oracleBytes),
      formatRatio(ratio(r.bytesStored, r.oracleBytes)),
    ]),
  };
}

/**
 * Scaling: time per GiB and peak RSS of the engine's full push and fresh pull by workload, the
 * CPU time per GiB (user: the engine's work; sys: the kernel's, page cache and I/O), the
 * marginal time per GiB from the next smaller size (what one more GiB costs, the fixed costs of
 * an operation left out), and `cp -r`'s wall time per GiB on the same workload where it ran.
 */
export function scalingTable(rows: Row[]): Table {
  const picked = rows.filter(
    (r) =>
      r.tool === 'ckpt' &&
      (r.scenario === 'full-push' || r.scenario === 'fresh-pull') &&
      !r.workload.startsWith('rewrite-'),
  );
  const smallFiles = (r: Row) => (r.workload === 'small-files' ? 1 : 0);
  picked.sort(
    (a, b) =>
      a.backend.localeCompare(b.backend) ||
      a.cache.localeCompare(b.cache) ||
      a.scenario.localeCompare(b.scenario) ||
      smallFiles(a) - smallFiles(b) ||
      a.logicalBytes - b.logicalBytes,
  );
  const perGiB = (ms: number | undefined, r: Row) =>
    ms === undefined ? '-' : (ms / 1000 / (r.logicalBytes / 2 ** 30)).toFixed(2);
  const copy = (r: Row) => {
    const theirs = rows.find(
      (c) =>
        c.tool === 'cp -r' &&
        c.backend === r.backend &&
        c.cache === r.cache &&
        c.scenario === r.scenario &&
        c.workload === r.workload &&
        c.failures < c.runs,
    );
    return theirs ? perGiB(theirs.medianWallMs, theirs) : '-';
  };
  const marginal = (r: Row, i: number) => {
    const prev = picked[i - 1];
    const sameSeries = prev?.backend === r.backend && prev.cache === r.cache && prev.scenario === r.scenario;
    if (!prev || !sameSeries || smallFiles(r)) return '-';
    const ms = (r.medianOpMs ?? Number.NaN) - (prev.medianOpMs ?? Number.NaN);
    const value = ms / 1000 / ((r.logicalBytes - prev.logicalBytes) / 2 ** 30);
    return Number.isFinite(value) ? value.toFixed(2) : '-';
  };
  return {
    headers: [
      'backend',
      'cache',
      'operation',
      'workload',
      'size',
      'wall s',
      'engine s',
      's/GiB (engine)',
      'marginal s/GiB',
      'cp -r s/GiB',
      'CPU user s/GiB',
      'CPU sys s/GiB',
      'peak RSS',
    ],
    right: [4, 5, 6, 7, 8, 9, 10, 11, 12],
    cells: picked.map((r, i) => [
      r.backend,
      r.cache,
      SCENARIO_NAMES[r.scenario],
      r.workload,
      formatBytes(r.logicalBytes),
      formatSeconds(r.medianWallMs),
      formatSeconds(r.medianOpMs ?? Number.NaN),
      secondsPerGiB(r).toFixed(2),
      marginal(r, i),
      copy(r),
      perGiB(r.medianCpuUserMs, r),
      perGiB(r.medianCpuSystemMs, r),
      formatBytes(r.peakRssBytes),
    ]),
  };
}

/** Fixed-width text, for the terminal. */
export function renderText(table: Table): string {
  const widths = table.headers.map((h, i) => Math.max(h.length, ...table.cells.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (table.right.includes(i) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(table.headers), widths.map((w) => '-'.repeat(w)).join('  '), ...table.cells.map(line)].join(
    '\n',
  );
}

function escapeCell(text: string): string {
  return text.replaceAll('|', '\\|');
}

/** A GitHub markdown table. */
export function renderMarkdown(table: Table): string {
  const row = (cells: string[]) => `| ${cells.map(escapeCell).join(' | ')} |`;
  const rule = table.headers.map((_, i) => (table.right.includes(i) ? '---:' : '---'));
  return [row(table.headers), `|${rule.join('|')}|`, ...table.cells.map(row)].join('\n');
}
