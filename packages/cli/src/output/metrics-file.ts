import { rename, rm, writeFile } from 'node:fs/promises';
import type { StoreStats } from '@ckpt/core';
import { Gauge, Registry } from 'prom-client';

/** What one `ckpt` run reports to `--metrics-file`. */
export interface RunMetrics {
  /** The command: `push`, `pull`, `verify`, … */
  operation: string;
  model?: string;
  /** The store's name (`s3://bucket/prefix`): never a credential. */
  store?: string;
  exitCode: number;
  durationMs: number;
  /** Store requests retried after a transient failure. */
  retries: number;
  /** What the store's requests met (`ObjectStore.stats`), when it says. */
  storeStats?: StoreStats;
  /** The command's result (`PushResult`, `GcResult`, …): its known numeric fields become gauges. */
  result?: object;
}

/** Result fields exported as `ckpt_last_run_<name>` gauges, with their help texts. */
const FIGURES: Record<string, [name: string, help: string]> = {
  bytes: ['bytes', 'Logical bytes of the checkpoint pushed, pulled or verified'],
  bytesTransferred: ['transferred_bytes', 'Bytes sent to or read from the store'],
  throughput: ['throughput_bytes_per_second', 'Logical bytes per second'],
  files: ['files', 'Files in the checkpoint'],
  zeroBytes: ['zero_bytes', 'Bytes in runs of zeros, never stored'],
  chunksNew: ['chunks_new', 'Chunks the push stored or the pull fetched'],
  chunksReused: ['chunks_reused', 'Chunks taken from data already stored or already local'],
  bytesResumed: ['resumed_bytes', "Bytes of an interrupted push's packs the push reused"],
  chunksChecked: ['chunks_checked', 'Chunks verify read and hashed'],
  packsDeleted: ['packs_deleted', 'Pack objects gc deleted'],
  bytesFreed: ['freed_bytes', 'Bytes gc freed in the store'],
};

/**
 * The run as Prometheus text exposition format: gauges of the last run, labelled by operation,
 * model and store, as node-exporter's textfile collector expects (one file per job: a later run
 * of the same job replaces it).
 */
export async function metricsText(run: RunMetrics): Promise<string> {
  const registry = new Registry();
  const labels = {
    operation: run.operation,
    ...(run.model === undefined ? {} : { model: run.model }),
    ...(run.store === undefined ? {} : { store: run.store }),
  };
  const gauge = (name: string, help: string, value: number) => {
    new Gauge({
      name: `ckpt_last_run_${name}`,
      help,
      labelNames: Object.keys(labels),
      registers: [registry],
    }).set(labels, value);
  };
  gauge('success', '1 when the run succeeded, 0 when it failed', run.exitCode === 0 ? 1 : 0);
  gauge('exit_code', 'The exit code of the run', run.exitCode);
  gauge('timestamp_seconds', 'When the run ended, in seconds since the epoch', Date.now() / 1000);
  gauge('duration_seconds', 'How long the run took', run.durationMs / 1000);
  gauge('retries', 'Store requests retried after a transient failure', run.retries);
  if (run.storeStats) {
    gauge(
      'throttled',
      'Store requests the service answered with throttling (429, SlowDown)',
      run.storeStats.throttled,
    );
    gauge(
      'store_in_flight_limit',
      'Requests the store let run at once at the end (lowered by throttling)',
      run.storeStats.inFlightLimit,
    );
  }
  for (const [field, value] of Object.entries(run.result ?? {})) {
    const figure = FIGURES[field];
    if (figure && typeof value === 'number') gauge(figure[0], figure[1], value);
  }
  return registry.metrics();
}

/** Writes the run's metrics to `path` atomically (a reader never sees half a file). */
export async function writeMetricsFile(path: string, run: RunMetrics): Promise<void> {
  const temp = `${path}.${process.pid}.tmp`;
  try {
    await writeFile(temp, await metricsText(run));
    await rename(temp, path);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
