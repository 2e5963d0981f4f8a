import { prepareCache } from './machine.js';
import { runSampled } from './rss.js';
import { processCpuMs, serverIdle } from './server-cpu.js';
import { formatBytes, formatSeconds } from './stats.js';
import type { Command } from './tools.js';
import type { BackendKind, CacheMode, Measurement, OpOutcome, OpSpec, Scenario, Tool } from './types.js';

/** Where a measurement belongs. */
export interface MeasureLabel {
  backend: BackendKind;
  cache: CacheMode;
  run: number;
  scenario: Scenario;
  tool: Tool;
  workload: string;
  logicalBytes: number;
  oracleBytes?: number;
}

/**
 * Prepares the page cache, runs one operation in a sampled child process, logs and returns it;
 * where the backend has a server, also the CPU time that server spent meanwhile.
 */
export class Measurer {
  private readonly servers = new Map<BackendKind, number>();

  /** `runner`: the runner-child script (in an engine snapshot). */
  constructor(
    private readonly runner: string,
    private readonly record: (m: Measurement) => void,
    private readonly log: (line: string) => void,
  ) {}

  /** Measures the CPU time of process `pid` during every operation on `backend`. */
  watchServer(backend: BackendKind, pid: number): void {
    this.servers.set(backend, pid);
  }

  /**
   * Runs a command in a sampled process; the measurement carries the server's CPU time meanwhile.
   * It starts once the server is idle, so that work an earlier operation left it (MinIO purges
   * deleted objects in the background) is not counted against the next one.
   */
  private async sampled(label: MeasureLabel, command: Omit<Command, 'env'> & { env?: NodeJS.ProcessEnv }) {
    const pid = this.servers.get(label.backend);
    const waited = pid === undefined ? 0 : await serverIdle(pid);
    if (waited >= 1000)
      this.log(`[${label.backend}] waited ${formatSeconds(waited)} s for the server to go idle`);
    const before = pid === undefined ? undefined : processCpuMs(pid);
    const run = await runSampled(command.file, command.args, { env: command.env });
    const after = pid === undefined ? undefined : processCpuMs(pid);
    const m = this.base(label, run.wallMs, run.peakRssBytes);
    if (before !== undefined && after !== undefined) m.serverCpuMs = after - before;
    return { run, m };
  }

  /** Runs one engine or raw-SDK operation through the runner child. */
  async child(label: MeasureLabel, spec: OpSpec, warm: string[]): Promise<OpOutcome | undefined> {
    await prepareCache(label.cache, warm);
    const { run, m } = await this.sampled(label, {
      file: process.execPath,
      args: [this.runner, JSON.stringify(spec)],
    });
    let outcome: OpOutcome | undefined;
    if (run.exitCode === 0) {
      outcome = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as OpOutcome;
      m.peakRssBytes = Math.max(m.peakRssBytes, outcome.maxRssBytes);
      m.opMs = outcome.opMs;
      m.cpuUserMs = outcome.cpuUserMs;
      m.cpuSystemMs = outcome.cpuSystemMs;
      m.requests = outcome.metrics.requests;
      m.bytesSent = outcome.metrics.bytesOut;
      m.bytesReceived = outcome.metrics.bytesIn;
      if (spec.op === 'push') m.bytesStored = outcome.metrics.bytesOut;
    } else {
      m.ok = false;
      m.error = failure(run.exitCode, run.signal, run.stderr);
    }
    this.finish(m);
    return outcome;
  }

  /** Runs a reference tool's command. */
  async command(label: MeasureLabel, command: Command, warm: string[]): Promise<Measurement> {
    await prepareCache(label.cache, warm);
    const { run, m } = await this.sampled(label, command);
    if (run.exitCode !== 0) {
      m.ok = false;
      // azcopy reports its errors on stdout
      m.error = failure(run.exitCode, run.signal, run.stderr || run.stdout.slice(-8192));
    }
    this.finish(m);
    return m;
  }

  private base(label: MeasureLabel, wallMs: number, peakRssBytes: number): Measurement {
    const { backend, cache, scenario, tool, workload, run, logicalBytes, oracleBytes } = label;
    const m: Measurement = {
      backend,
      cache,
      scenario,
      tool,
      workload,
      run,
      ok: true,
      wallMs,
      peakRssBytes,
      logicalBytes,
    };
    if (oracleBytes !== undefined) m.oracleBytes = oracleBytes;
    return m;
  }

  private finish(m: Measurement): void {
    this.record(m);
    const detail = m.ok
      ? `${formatSeconds(m.wallMs)} s, RSS ${formatBytes(m.peakRssBytes)}` +
        (m.requests !== undefined ? `, ${m.requests} req, sent ${formatBytes(m.bytesSent)}` : '') +
        (m.bytesReceived ? `, received ${formatBytes(m.bytesReceived)}` : '') +
        (m.serverCpuMs !== undefined ? `, server CPU ${formatSeconds(m.serverCpuMs)} s` : '')
      : `FAILED: ${m.error}`;
    this.log(`[${m.backend} ${m.cache} #${m.run}] ${m.tool} ${m.scenario} ${m.workload}: ${detail}`);
  }
}

/** A one-line reason for a failed process: exit code or signal and the last line of stderr. */
export function failure(code: number | null, signal: string | null, stderr: string): string {
  const last = stderr.trim().split('\n').filter(Boolean).slice(-3).join(' | ');
  return `${signal ? `killed by ${signal}` : `exit ${code}`}${last ? `: ${last.slice(0, 400)}` : ''}`;
}
