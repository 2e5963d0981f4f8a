import type { Measurement, Row } from './types.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

/** The median of `values` (mean of the middle two for an even count); `NaN` when empty. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** The key that groups runs of the same operation. */
export function rowKey(m: Pick<Measurement, 'backend' | 'cache' | 'scenario' | 'tool' | 'workload'>): string {
  return `${m.backend}|${m.cache}|${m.scenario}|${m.tool}|${m.workload}`;
}

function medianOf(runs: Measurement[], pick: (m: Measurement) => number | undefined): number | undefined {
  const values = runs.map(pick).filter((v): v is number => v !== undefined);
  return values.length ? median(values) : undefined;
}

/**
 * Aggregates runs into rows, in order of first appearance: wall time median/min/max over the
 * successful runs, the highest peak RSS, and medians of the counters and of the server's CPU share. A row whose runs all failed
 * keeps `NaN` times.
 */
export function aggregate(measurements: readonly Measurement[]): Row[] {
  const groups = new Map<string, Measurement[]>();
  for (const m of measurements) {
    const key = rowKey(m);
    const group = groups.get(key);
    if (group) group.push(m);
    else groups.set(key, [m]);
  }
  return [...groups.values()].map((all) => {
    const first = all[0]!;
    const ok = all.filter((m) => m.ok);
    const walls = ok.map((m) => m.wallMs);
    const row: Row = {
      backend: first.backend,
      cache: first.cache,
      scenario: first.scenario,
      tool: first.tool,
      workload: first.workload,
      runs: all.length,
      failures: all.length - ok.length,
      medianWallMs: median(walls),
      minWallMs: walls.length ? Math.min(...walls) : Number.NaN,
      maxWallMs: walls.length ? Math.max(...walls) : Number.NaN,
      peakRssBytes: Math.max(0, ...ok.map((m) => m.peakRssBytes)),
      logicalBytes: first.logicalBytes,
    };
    const optional = {
      medianOpMs: medianOf(ok, (m) => m.opMs),
      medianCpuUserMs: medianOf(ok, (m) => m.cpuUserMs),
      medianCpuSystemMs: medianOf(ok, (m) => m.cpuSystemMs),
      requests: medianOf(ok, (m) => m.requests),
      bytesSent: medianOf(ok, (m) => m.bytesSent),
      bytesReceived: medianOf(ok, (m) => m.bytesReceived),
      bytesStored: medianOf(ok, (m) => m.bytesStored),
      oracleBytes: first.oracleBytes,
      medianServerCores: medianOf(ok, (m) =>
        m.serverCpuMs === undefined ? undefined : m.serverCpuMs / m.wallMs,
      ),
    };
    for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(row, { [k]: v });
    return row;
  });
}

/** `a / b`, or `NaN` when either is missing or `b` is 0. */
export function ratio(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) {
    return Number.NaN;
  }
  return a / b;
}

/** Bytes per second from a byte count and milliseconds. */
export function rate(bytes: number, ms: number): number {
  return ms > 0 ? (bytes * 1000) / ms : Number.NaN;
}

/** Seconds with a precision that fits the magnitude: `0.042`, `1.53`, `61.2`. */
export function formatSeconds(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  const s = ms / 1000;
  return s < 0.1 ? s.toFixed(3) : s < 10 ? s.toFixed(2) : s.toFixed(1);
}

/** Binary units: `512 B`, `3.2 KiB`, `245.1 MiB`, `3.00 GiB`. */
export function formatBytes(n: number | undefined): string {
  if (n === undefined || !Number.isFinite(n)) return '-';
  if (n < 1024) return `${Math.round(n)} B`;
  if (n < MiB) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < GiB) return `${(n / MiB).toFixed(1)} MiB`;
  return `${(n / GiB).toFixed(2)} GiB`;
}

/** MiB/s of `bytes` moved in `ms`. */
export function formatRate(bytes: number | undefined, ms: number): string {
  if (bytes === undefined) return '-';
  const r = rate(bytes, ms);
  return Number.isFinite(r) ? `${(r / MiB).toFixed(r < 10 * MiB ? 1 : 0)}` : '-';
}

/** A ratio as `0.42×`; `-` when unknown. */
export function formatRatio(value: number): string {
  if (!Number.isFinite(value)) return '-';
  return `${value < 0.1 ? value.toFixed(3) : value.toFixed(2)}×`;
}
