import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/** How a sampled process ended. */
export interface SampledRun {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Spawn to exit. */
  wallMs: number;
  /**
   * Peak RSS of the process tree: the largest sum of `VmRSS` over the tree seen by sampling, or
   * the largest `VmHWM` (a member's own peak) if that is higher.
   */
  peakRssBytes: number;
  /** Processes seen in the tree (the root included). */
  processes: number;
  stdout: string;
  /** The last 8 KiB of stderr. */
  stderr: string;
}

/** Options of {@link runSampled}. */
export interface SampleOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Killed (SIGKILL, tree root) after this long. Default 1 hour. */
  timeoutMs?: number;
  /** Sampling period. Default 20 ms. */
  intervalMs?: number;
}

/** `VmRSS` and `VmHWM` of one process in bytes, from the text of `/proc/<pid>/status`. */
export function parseStatusMemory(status: string): { rss: number; hwm: number } {
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { rss: kib('VmRSS') * 1024, hwm: kib('VmHWM') * 1024 };
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined; // the process (or thread) is gone
  }
}

/** `pid` and its descendants, through `/proc/<pid>/task/<tid>/children` of every thread. */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0) {
    const current = stack.pop()!;
    out.push(current);
    let tasks: string[];
    try {
      tasks = readdirSync(`/proc/${current}/task`);
    } catch {
      continue;
    }
    for (const tid of tasks) {
      const children = read(`/proc/${current}/task/${tid}/children`);
      if (children) for (const child of children.trim().split(/\s+/)) if (child) stack.push(Number(child));
    }
  }
  return out;
}

/**
 * Runs a command to completion while sampling the memory of its whole process tree every
 * `intervalMs`. Stdout is kept whole (the runner child prints one JSON line), stderr's tail only.
 */
export function runSampled(file: string, args: string[], options: SampleOptions = {}): Promise<SampledRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(file, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding('utf8').on('data', (text: string) => {
      stderr = (stderr + text).slice(-8192);
    });
    let peak = 0;
    const seen = new Map<number, number>(); // pid → highest VmHWM
    const sample = () => {
      if (child.pid === undefined) return;
      let sum = 0;
      for (const pid of processTree(child.pid)) {
        const status = read(`/proc/${pid}/status`);
        if (!status) continue;
        const { rss, hwm } = parseStatusMemory(status);
        sum += rss;
        seen.set(pid, Math.max(seen.get(pid) ?? 0, hwm));
      }
      peak = Math.max(peak, sum);
    };
    const timer = setInterval(sample, options.intervalMs ?? 20);
    const timeout = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 3_600_000);
    child.once('spawn', sample);
    child.once('error', (err) => {
      clearInterval(timer);
      clearTimeout(timeout);
      reject(err);
    });
    let wallMs = Number.NaN;
    child.once('exit', () => {
      wallMs = performance.now() - start;
    });
    child.once('close', (exitCode, signal) => {
      clearInterval(timer);
      clearTimeout(timeout);
      resolve({
        exitCode,
        signal,
        wallMs,
        peakRssBytes: Math.max(peak, ...seen.values()),
        processes: seen.size,
        stdout,
        stderr,
      });
    });
  });
}
