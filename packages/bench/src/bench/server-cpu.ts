import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { processTree } from './rss.js';

/** Units of the times in `/proc/<pid>/stat`: USER_HZ, which Linux fixes at 100 for user space. */
const TICKS_PER_SECOND = 100;

/** User + system CPU ticks of one process (all its threads) from the text of `/proc/<pid>/stat`. */
export function parseStatTicks(stat: string): number {
  // the command name (field 2) is in parentheses and may hold spaces: count fields after it
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[11]) + Number(fields[12]); // utime and stime, fields 14 and 15
}

/**
 * CPU time, in ms, that process `pid` and its descendants have used so far, or undefined once it
 * is gone. In clock ticks of the kernel's accounting (`/proc/<pid>/stat`), so coarse.
 */
export function processCpuMs(pid: number): number | undefined {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      ticks += parseStatTicks(readFileSync(`/proc/${member}/stat`, 'utf8'));
    } catch {
      if (member === pid) return undefined;
    }
  }
  return (ticks * 1000) / TICKS_PER_SECOND;
}

/** A server counts as idle once it used at most this share of a core over {@link IDLE_WINDOW_MS}. */
const IDLE_SHARE = 0.1;
const IDLE_WINDOW_MS = 250;
/** Longest wait for an idle server: one that never settles is measured as it is. */
const IDLE_WAIT_MS = 20_000;

/** Waits until process `pid` (and its descendants) is idle, at most {@link IDLE_WAIT_MS}; the ms waited. */
export async function serverIdle(pid: number): Promise<number> {
  const start = performance.now();
  let before = processCpuMs(pid);
  while (before !== undefined && performance.now() - start < IDLE_WAIT_MS) {
    await sleep(IDLE_WINDOW_MS);
    const after = processCpuMs(pid);
    if (after === undefined || after - before <= IDLE_SHARE * IDLE_WINDOW_MS) break;
    before = after;
  }
  return performance.now() - start;
}
