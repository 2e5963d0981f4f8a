import { scalingRows, secondsPerGiB } from './ratios.js';
import { SCENARIO_NAMES } from './report-table.js';
import { formatSeconds } from './stats.js';
import type { BenchResults, Row, Scenario, Tool } from './types.js';

/** One bar: its series name (colour and legend), length and label. */
export interface Bar {
  name: string;
  value: number;
  text: string;
}

/** Bars drawn together under one label. */
export interface Group {
  label: string;
  bars: Bar[];
}

/** A titled chart of horizontal bars; lengths are relative to the longest bar of the group or the panel. */
export interface Panel {
  title: string;
  groups: Group[];
  scale: 'group' | 'panel';
}

const WIDTH = 960;
const LABEL_W = 230;
const BAR_W = 560;
const BAR_H = 13;
const GAP = 3;
const GROUP_GAP = 12;
const PALETTE = ['#319795', '#d69e2e', '#d53f8c', '#718096', '#2b6cb0', '#38a169', '#805ad5'];
const COLOURS: Record<string, string> = {
  ckpt: '#2b6cb0',
  'cp -r': '#dd6b20',
  'cp -r (whole copy)': '#f6ad55',
  'cp -r + fsync': '#9c4221',
  'aws s3 sync': '#805ad5',
  'rclone copy': '#38a169',
  's5cmd sync': '#d53f8c',
  restic: '#b7791f',
  'azcopy copy': '#00a3bf',
  'raw SDK (ceiling)': '#718096',
};

/** Escapes text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function colourOf(name: string, names: string[]): string {
  return COLOURS[name] ?? PALETTE[names.indexOf(name) % PALETTE.length]!;
}

/** Renders panels one below the other as a standalone SVG document (no scripts, no external refs). */
export function renderSvg(title: string, panels: Panel[]): string {
  const out: string[] = [];
  let y = 34;
  out.push(`<text x="12" y="22" font-size="16" font-weight="bold">${escapeXml(title)}</text>`);
  for (const panel of panels) {
    const names = [...new Set(panel.groups.flatMap((g) => g.bars.map((b) => b.name)))];
    y += 22;
    out.push(`<text x="12" y="${y}" font-size="13" font-weight="bold">${escapeXml(panel.title)}</text>`);
    y += 18;
    let x = LABEL_W;
    for (const name of names) {
      out.push(`<rect x="${x}" y="${y - 10}" width="10" height="10" fill="${colourOf(name, names)}"/>`);
      out.push(`<text x="${x + 14}" y="${y}" font-size="11">${escapeXml(name)}</text>`);
      x += 24 + name.length * 6.5;
    }
    y += 10;
    const finite = (bars: Bar[]) => bars.map((b) => b.value).filter((v) => Number.isFinite(v) && v > 0);
    const panelMax = Math.max(0, ...panel.groups.flatMap((g) => finite(g.bars)));
    for (const group of panel.groups) {
      const max = panel.scale === 'group' ? Math.max(0, ...finite(group.bars)) : panelMax;
      const top = y;
      for (const bar of group.bars) {
        const length = max > 0 && Number.isFinite(bar.value) ? Math.max(1, (bar.value / max) * BAR_W) : 0;
        out.push(
          `<rect x="${LABEL_W}" y="${y}" width="${length.toFixed(1)}" height="${BAR_H}" fill="${colourOf(bar.name, names)}"><title>${escapeXml(`${group.label} — ${bar.name}: ${bar.text}`)}</title></rect>`,
        );
        out.push(
          `<text x="${(LABEL_W + length + 4).toFixed(1)}" y="${y + BAR_H - 2}" font-size="10">${escapeXml(bar.text)}</text>`,
        );
        y += BAR_H + GAP;
      }
      const middle = (top + y - GAP) / 2 + 4;
      out.push(
        `<text x="${LABEL_W - 8}" y="${middle.toFixed(1)}" font-size="11" text-anchor="end">${escapeXml(group.label)}</text>`,
      );
      y += GROUP_GAP;
    }
  }
  const height = y + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
    ...out,
    '</svg>',
    '',
  ].join('\n');
}

const COMPARED: Scenario[] = ['full-push', 'unchanged-push', 'next-push', 'fresh-pull', 'pull-over-previous'];
const TOOL_ORDER: Tool[] = [
  'ckpt',
  'ckpt (encrypted)',
  'cp -r',
  'cp -r + fsync',
  'aws s3 sync',
  'rclone copy',
  's5cmd sync',
  'restic',
  'azcopy copy',
  'sdk',
];

function ok(r: Row): boolean {
  return r.failures < r.runs && Number.isFinite(r.medianWallMs);
}

/**
 * The benchmark's chart: wall time of the engine against the reference tools per operation (each
 * group scaled to its slowest bar), stored bytes against the oracle in the sweep, and seconds per
 * GiB by workload size. Uses the first cache mode of the run.
 */
export function resultsSvg(results: BenchResults): string {
  const cache = results.rows[0]?.cache ?? 'warm';
  const rows = results.rows.filter((r) => r.cache === cache && ok(r));
  const backends = [...new Set(rows.map((r) => r.backend))];
  const panels: Panel[] = [];
  const timeGroups: Group[] = [];
  const bar = (r: Row, name: string = r.tool): Bar => ({
    name,
    value: r.medianWallMs,
    text: `${formatSeconds(r.medianWallMs)} s`,
  });
  for (const backend of backends) {
    const mine = rows.filter((r) => r.backend === backend);
    const find = (scenario: Scenario, tool: Tool, workload = 'main') =>
      mine.find((r) => r.scenario === scenario && r.tool === tool && r.workload === workload);
    for (const scenario of COMPARED) {
      const bars: Bar[] = [];
      for (const tool of TOOL_ORDER) {
        const own = find(scenario, tool);
        if (own) bars.push(bar(own));
        // cp -r has no incremental mode: its whole copy is the reference (as in the ratios)
        const whole = scenario.endsWith('-push') ? 'full-push' : 'fresh-pull';
        const copy = tool === 'cp -r' && !own ? find(whole, tool) : undefined;
        if (copy) bars.push(bar(copy, 'cp -r (whole copy)'));
      }
      const raw = scenario === 'full-push' ? 'raw-put' : scenario === 'fresh-pull' ? 'raw-get' : undefined;
      const ceiling = raw && find(raw, 'sdk');
      if (ceiling) bars.push(bar(ceiling, 'raw SDK (ceiling)'));
      if (bars.length) timeGroups.push({ label: `${backend}: ${SCENARIO_NAMES[scenario]}`, bars });
    }
    for (const scenario of ['full-push', 'fresh-pull'] as const) {
      const bars = TOOL_ORDER.flatMap((tool) => {
        const r = find(scenario, tool, 'small-files');
        return r ? [bar(r)] : [];
      });
      if (bars.length > 1)
        timeGroups.push({ label: `${backend}: small files, ${SCENARIO_NAMES[scenario]}`, bars });
    }
  }
  if (timeGroups.length) {
    panels.push({
      title: 'Wall time, median (bars scaled per group; shorter is better)',
      groups: timeGroups,
      scale: 'group',
    });
  }
  const sweepAll = rows.filter((r) => r.scenario === 'sweep-push' && r.oracleBytes !== undefined);
  const first = sweepAll.filter((r) => r.backend === backends[0]);
  // stored bytes differ between backends only by a few manifest bytes, if at all
  const close = (a = 0, b = 0) => Math.abs(a - b) <= 0.001 * Math.max(a, b);
  const same = sweepAll.every((r) =>
    first.some((f) => f.workload === r.workload && close(f.bytesStored, r.bytesStored)),
  );
  const sweep = same ? first : sweepAll;
  if (sweep.length) {
    const MiB = 2 ** 20;
    const mib = (n: number | undefined) => `${((n ?? 0) / MiB).toFixed(0)} MiB`;
    panels.push({
      title: `Next-version push: bytes stored against the oracle, by rewrite fraction${same && backends.length > 1 ? ' (the same on every backend)' : ''}`,
      scale: 'group',
      groups: sweep.map((r) => ({
        label: same ? r.workload : `${r.backend}: ${r.workload}`,
        bars: [
          { name: 'stored', value: r.bytesStored ?? Number.NaN, text: mib(r.bytesStored) },
          { name: 'oracle', value: r.oracleBytes!, text: mib(r.oracleBytes) },
        ],
      })),
    });
  }
  const scalingGroups: Group[] = [];
  for (const backend of backends) {
    for (const scenario of ['full-push', 'fresh-pull'] as const) {
      const bars = scalingRows(rows, backend, cache, scenario).map((r) => ({
        name: r.workload === 'main' ? `main (${(r.logicalBytes / 2 ** 30).toFixed(1)} GiB)` : r.workload,
        value: secondsPerGiB(r),
        text: `${secondsPerGiB(r).toFixed(2)} s/GiB`,
      }));
      if (bars.length > 1) scalingGroups.push({ label: `${backend}: ${SCENARIO_NAMES[scenario]}`, bars });
    }
  }
  if (scalingGroups.length) {
    panels.push({
      title: 'Scaling: engine seconds per GiB by workload size (flat is good)',
      groups: scalingGroups,
      scale: 'panel',
    });
  }
  return renderSvg(`ckpt benchmark, ${results.date.slice(0, 10)} (${cache} page cache)`, panels);
}
