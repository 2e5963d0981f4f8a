import type { Table } from '../bench/report-table.js';
import { formatBytes, formatRatio, formatSeconds } from '../bench/stats.js';
import type { FleetRow } from './scenarios.js';

/** The job figures worth a column of their own, by the name the table shows. */
const FIGURES: [string, string][] = [
  ['models', 'models'],
  ['generations', 'generations'],
  ['runs', 'gc runs'],
  ['expiredGenerations', 'expired'],
  ['packsDeleted', 'packs deleted'],
];

/**
 * Every row of the fleet simulation: wall time of the longest process (spawn to exit), its job
 * alone, and the most CPU time one process spent; "read / logical" is what one process read
 * against the checkpoint's size.
 */
export function fleetTable(rows: FleetRow[]): Table {
  return {
    headers: [
      'scenario',
      'store',
      'what',
      'processes',
      'wall s (longest)',
      'job s',
      'CPU s',
      'requests',
      'read',
      'read / logical, each',
      'written',
      'peak RSS (largest)',
      'throttled',
      'errors',
      'figures',
    ],
    cells: rows.map((row) => [
      row.scenario,
      row.backend === 's3' ? 'MinIO' : 'fs',
      row.role,
      String(row.processes),
      formatSeconds(row.wallMs),
      formatSeconds(row.opMs),
      formatSeconds(row.cpuMs),
      String(row.requests),
      formatBytes(row.bytesIn),
      row.logicalBytes > 0 && row.bytesIn > 0
        ? formatRatio(row.bytesIn / row.processes / row.logicalBytes)
        : '-',
      formatBytes(row.bytesOut),
      formatBytes(row.peakRssBytes),
      String(row.throttled),
      String(row.errors.length),
      FIGURES.filter(([name]) => row.figures[name] !== undefined)
        .map(([name, label]) => `${label} ${row.figures[name]}`)
        .join(', '),
    ]),
    right: [3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
  };
}
