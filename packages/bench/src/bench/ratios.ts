import { rate, ratio } from './stats.js';
import type { BackendKind, CacheMode, Ratio, Row, Scenario, Tool } from './types.js';

const MiB = 2 ** 20;

/** Spread (max / min) of time per GiB or peak RSS across workload sizes that counts as flat. */
export const FLAT_SPREAD = 1.25;

/** The reference tools each backend is compared with. */
export const PEERS: Record<BackendKind, Tool[]> = {
  fs: ['cp -r', 'restic'],
  s3: ['aws s3 sync', 'rclone copy', 's5cmd sync', 'restic'],
  gcs: ['rclone copy'],
  azure: ['azcopy copy', 'rclone copy'],
};

/**
 * The sync tools an issue set targets against: ckpt faster on a full push and a fresh pull, and
 * a next-version push taking at most `nextPush` of theirs (issue 6 on S3: 5× faster; issues 21
 * and 22 on Azure and GCS: 10×). The other peers are compared without a target; `cp -r` has its own.
 */
const TARGETS: Record<BackendKind, Partial<Record<Tool, { nextPush: number }>>> = {
  fs: {},
  s3: { 'aws s3 sync': { nextPush: 0.2 }, 'rclone copy': { nextPush: 0.2 } },
  gcs: { 'rclone copy': { nextPush: 0.1 } },
  azure: { 'azcopy copy': { nextPush: 0.1 }, 'rclone copy': { nextPush: 0.1 } },
};

type Find = (scenario: Scenario, tool: Tool, workload?: string) => Row | undefined;

function finder(rows: Row[], backend: BackendKind, cache: CacheMode): Find {
  return (scenario, tool, workload = 'main') =>
    rows.find(
      (r) =>
        r.backend === backend &&
        r.cache === cache &&
        r.scenario === scenario &&
        r.tool === tool &&
        r.workload === workload &&
        r.failures < r.runs,
    );
}

function check(value: number, op: '<' | '≤' | '≥', limit: number): boolean | undefined {
  if (!Number.isFinite(value)) return undefined;
  return op === '<' ? value < limit : op === '≤' ? value <= limit : value >= limit;
}

/** A ratio, with its target when there is one (`op limit`). */
function entry(
  backend: BackendKind,
  cache: CacheMode,
  label: string,
  value: number,
  target?: ['<' | '≤' | '≥', number],
  unit: Ratio['unit'] = 'ratio',
): Ratio {
  const r: Ratio = { backend, cache, label, value, unit };
  if (target) {
    r.target = `${target[0]} ${target[1]}`;
    const pass = check(value, ...target);
    if (pass !== undefined) r.pass = pass;
  }
  return r;
}

const wall = (row: Row | undefined) => row?.medianWallMs;

/**
 * Time per GiB of `row` in seconds: the engine's own operation time where known (the scaling
 * question is how the work grows with size, not the fixed ~0.3 s of starting a process), else wall.
 */
export function secondsPerGiB(row: Row): number {
  return (row.medianOpMs ?? row.medianWallMs) / 1000 / (row.logicalBytes / 2 ** 30);
}

/**
 * The least-squares line through `(GiB, seconds)` points: `fixed` seconds every run pays (the
 * intercept) and `perGiB` seconds each further GiB costs (the slope).
 */
export function fitLine(points: readonly (readonly [number, number])[]): { fixed: number; perGiB: number } {
  const n = points.length;
  const mx = points.reduce((sum, [x]) => sum + x, 0) / n;
  const my = points.reduce((sum, [, y]) => sum + y, 0) / n;
  const sxx = points.reduce((sum, [x]) => sum + (x - mx) ** 2, 0);
  const sxy = points.reduce((sum, [x, y]) => sum + (x - mx) * (y - my), 0);
  const perGiB = sxx > 0 ? sxy / sxx : Number.NaN;
  return { fixed: my - perGiB * mx, perGiB };
}

function spread(values: number[]): number {
  const finite = values.filter(Number.isFinite);
  return finite.length > 1 ? Math.max(...finite) / Math.min(...finite) : Number.NaN;
}

/** The scaling rows (main workload and scaling workloads) of one tool (the engine by default) for one scenario. */
export function scalingRows(
  rows: Row[],
  backend: BackendKind,
  cache: CacheMode,
  scenario: Scenario,
  tool: Tool = 'ckpt',
): Row[] {
  return rows
    .filter(
      (r) =>
        r.backend === backend &&
        r.cache === cache &&
        r.scenario === scenario &&
        r.tool === tool &&
        r.workload !== 'small-files' &&
        !r.workload.startsWith('rewrite-') &&
        r.failures < r.runs,
    )
    .sort((a, b) => a.logicalBytes - b.logicalBytes);
}

/** Ratios and figures against the targets of issues 6, 21 and 22, for every backend and cache mode present. */
export function computeRatios(rows: Row[]): Ratio[] {
  const out: Ratio[] = [];
  const pairs = new Set(rows.map((r) => `${r.backend}|${r.cache}`));
  for (const pair of pairs) {
    const [backend, cache] = pair.split('|') as [BackendKind, CacheMode];
    const find = finder(rows, backend, cache);
    const add = (label: string, value: number, target?: ['<' | '≤' | '≥', number], unit?: Ratio['unit']) =>
      out.push(entry(backend, cache, label, value, target, unit));
    const ckpt = (s: Scenario) => wall(find(s, 'ckpt'));
    const tools = PEERS[backend];
    for (const tool of tools) {
      if (!find('full-push', tool)) continue;
      const wholeCopy = tool === 'cp -r'; // no incremental mode: compare with its whole copy
      const target = TARGETS[backend][tool];
      add(
        `full push / ${tool}`,
        ratio(ckpt('full-push'), wall(find('full-push', tool))),
        wholeCopy ? ['≤', 2.5] : target && ['<', 1],
      );
      add(
        `fresh pull / ${tool}`,
        ratio(ckpt('fresh-pull'), wall(find('fresh-pull', tool))),
        wholeCopy ? ['≤', 2] : target && ['<', 1],
      );
      const toolUnchanged = wall(find(wholeCopy ? 'full-push' : 'unchanged-push', tool));
      add(
        `unchanged re-push / ${tool}`,
        ratio(ckpt('unchanged-push'), toolUnchanged),
        wholeCopy ? ['≤', 0.5] : undefined,
      );
      const toolNext = wall(find(wholeCopy ? 'full-push' : 'next-push', tool));
      add(
        `next-version push / ${tool}`,
        ratio(ckpt('next-push'), toolNext),
        wholeCopy || !target ? undefined : ['≤', target.nextPush],
      );
      const toolOver = wall(find(wholeCopy ? 'fresh-pull' : 'pull-over-previous', tool));
      add(`pull over previous / ${tool}`, ratio(ckpt('pull-over-previous'), toolOver));
      if (tool === 'restic') {
        const stored = (scenario: Scenario, t: Tool) => find(scenario, t)?.bytesStored;
        add('full push stored / restic', ratio(stored('full-push', 'ckpt'), stored('full-push', tool)));
        add('next version stored / restic', ratio(stored('next-push', 'ckpt'), stored('next-push', tool)));
      }
      const small = (t: Tool, s: Scenario) => wall(find(s, t, 'small-files'));
      if (find('full-push', tool, 'small-files')) {
        add(`small files: push / ${tool}`, ratio(small('ckpt', 'full-push'), small(tool, 'full-push')));
        add(`small files: pull / ${tool}`, ratio(small('ckpt', 'fresh-pull'), small(tool, 'fresh-pull')));
      }
    }
    for (const [scenario, name] of [
      ['full-push', 'full push'],
      ['next-push', 'next-version push'],
      ['fresh-pull', 'fresh pull'],
      ['pull-over-previous', 'pull over previous'],
    ] as const) {
      const encrypted = wall(find(scenario, 'ckpt (encrypted)'));
      if (encrypted !== undefined)
        add(`${name}: encrypted / plain`, ratio(encrypted, ckpt(scenario)), ['≤', 1.15]);
    }
    const durable = wall(find('full-push', 'cp -r + fsync'));
    if (durable !== undefined) add('full push / cp -r + fsync', ratio(ckpt('full-push'), durable));
    const rawPut = find('raw-put', 'sdk');
    const rawGet = find('raw-get', 'sdk');
    const push = find('full-push', 'ckpt');
    const pull = find('fresh-pull', 'ckpt');
    if (rawPut && push) {
      const ckptRate = rate(push.bytesSent ?? Number.NaN, push.medianWallMs);
      add('full push / raw SDK put of the same checkpoint', ratio(push.medianWallMs, rawPut.medianWallMs));
      add('push wire MiB/s / raw SDK put', ratio(ckptRate, rate(rawPut.logicalBytes, rawPut.medianWallMs)), [
        '≥',
        0.8,
      ]);
    }
    if (rawGet && pull) {
      const ckptRate = rate(pull.bytesReceived ?? Number.NaN, pull.medianWallMs);
      add('fresh pull / raw SDK get of the same checkpoint', ratio(pull.medianWallMs, rawGet.medianWallMs));
      add('pull wire MiB/s / raw SDK get', ratio(ckptRate, rate(rawGet.logicalBytes, rawGet.medianWallMs)), [
        '≥',
        0.8,
      ]);
    }
    const next = find('next-push', 'ckpt');
    if (next) add('next version stored / oracle', ratio(next.bytesStored, next.oracleBytes), ['≤', 2]);
    const rssRows: [Tool, string, ['≤', number] | undefined][] = [
      ['ckpt', 'peak RSS of any ckpt operation', backend === 'fs' ? ['≤', 200] : undefined],
      ['ckpt (encrypted)', 'peak RSS of any encrypted ckpt operation', undefined],
    ];
    for (const [tool, label, target] of rssRows) {
      const own = rows.filter((r) => r.backend === backend && r.cache === cache && r.tool === tool);
      if (own.length) add(label, Math.max(...own.map((r) => r.peakRssBytes)) / MiB, target, 'MiB');
    }
    for (const scenario of ['full-push', 'fresh-pull'] as const) {
      const scaled = scalingRows(rows, backend, cache, scenario);
      if (scaled.length < 2) continue;
      const name = scenario === 'full-push' ? 'full push' : 'fresh pull';
      add(`${name}: s/GiB (engine time) spread over sizes`, spread(scaled.map(secondsPerGiB)));
      // flat: once the fixed cost is paid, every size costs the same per GiB (needs 3 sizes: a
      // line through 2 points fits them exactly)
      if (scaled.length >= 3) {
        const points = scaled.map(
          (r) => [r.logicalBytes / 2 ** 30, (r.medianOpMs ?? r.medianWallMs) / 1000] as const,
        );
        const { fixed } = fitLine(points);
        add(`${name}: fixed cost (fitted)`, fixed, undefined, 's');
        add(
          `${name}: s/GiB beyond the fixed cost, spread over sizes`,
          spread(points.map(([gib, seconds]) => (seconds - fixed) / gib)),
          ['≤', FLAT_SPREAD],
        );
      }
      for (const tool of tools) {
        const theirs = scalingRows(rows, backend, cache, scenario, tool);
        if (theirs.length >= 2)
          add(`${name}: ${tool} s/GiB spread over sizes`, spread(theirs.map(secondsPerGiB)));
      }
      add(`${name}: peak RSS spread over sizes`, spread(scaled.map((r) => r.peakRssBytes)), [
        '≤',
        FLAT_SPREAD,
      ]);
    }
  }
  return out;
}
