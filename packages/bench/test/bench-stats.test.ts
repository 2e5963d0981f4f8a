import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parseStatusMemory } from '../src/bench/rss.js';
import { parseStatTicks, processCpuMs, serverIdle } from '../src/bench/server-cpu.js';
import {
  aggregate,
  formatBytes,
  formatRate,
  formatRatio,
  formatSeconds,
  median,
  ratio,
} from '../src/bench/stats.js';
import type { Measurement } from '../src/bench/types.js';

function m(over: Partial<Measurement>): Measurement {
  return {
    backend: 'fs',
    cache: 'warm',
    scenario: 'full-push',
    tool: 'ckpt',
    workload: 'main',
    run: 1,
    ok: true,
    wallMs: 1000,
    peakRssBytes: 100,
    logicalBytes: 2 ** 30,
    ...over,
  };
}

describe('median', () => {
  it('takes the middle value, or the mean of the middle two', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNaN();
  });

  it('does not reorder its input', () => {
    const values = [3, 1, 2];
    median(values);
    expect(values).toEqual([3, 1, 2]);
  });
});

describe('aggregate', () => {
  it('groups runs of one operation and keeps medians, the range and the highest RSS', () => {
    const rows = aggregate([
      m({ run: 1, wallMs: 3000, peakRssBytes: 50, requests: 10, bytesSent: 100 }),
      m({ run: 2, wallMs: 1000, peakRssBytes: 90, requests: 12, bytesSent: 300 }),
      m({ run: 3, wallMs: 2000, peakRssBytes: 70, requests: 11, bytesSent: 200 }),
      m({ tool: 'cp -r', wallMs: 500 }),
    ]);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      tool: 'ckpt',
      runs: 3,
      failures: 0,
      medianWallMs: 2000,
      minWallMs: 1000,
      maxWallMs: 3000,
      peakRssBytes: 90,
      requests: 11,
      bytesSent: 200,
    });
    expect(rows[0]).not.toHaveProperty('bytesReceived');
    expect(rows[1]).toMatchObject({ tool: 'cp -r', runs: 1, medianWallMs: 500 });
  });

  it('leaves failed runs out of the times but counts them', () => {
    const [row] = aggregate([m({ wallMs: 10 }), m({ ok: false, wallMs: 1, error: 'exit 1' })]);
    expect(row).toMatchObject({ runs: 2, failures: 1, medianWallMs: 10, minWallMs: 10 });
    const [dead] = aggregate([m({ ok: false })]);
    expect(dead!.medianWallMs).toBeNaN();
  });

  it('keeps the median over the runs of the cores the server kept busy (its CPU time over the wall time)', () => {
    const [row] = aggregate([
      m({ wallMs: 1000, serverCpuMs: 900 }),
      m({ wallMs: 4000, serverCpuMs: 1000 }),
      m({ wallMs: 2000, serverCpuMs: 1000 }),
    ]);
    expect(row!.medianServerCores).toBeCloseTo(0.5);
    expect(aggregate([m({})])[0]).not.toHaveProperty('medianServerCores');
  });

  it('keeps rows apart by backend, cache, scenario, tool and workload', () => {
    const rows = aggregate([
      m({}),
      m({ backend: 's3' }),
      m({ cache: 'cold' }),
      m({ scenario: 'fresh-pull' }),
      m({ workload: 'rewrite-1%' }),
    ]);
    expect(rows).toHaveLength(5);
  });
});

describe('formatting', () => {
  it('formats seconds, bytes, rates and ratios', () => {
    expect(formatSeconds(42)).toBe('0.042');
    expect(formatSeconds(1534)).toBe('1.53');
    expect(formatSeconds(61_240)).toBe('61.2');
    expect(formatSeconds(Number.NaN)).toBe('-');
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(3 * 2 ** 30)).toBe('3.00 GiB');
    expect(formatBytes(undefined)).toBe('-');
    expect(formatRate(100 * 2 ** 20, 2000)).toBe('50');
    expect(formatRate(2 ** 20, 1000)).toBe('1.0');
    expect(formatRatio(0.4213)).toBe('0.42×');
    expect(formatRatio(0.042)).toBe('0.042×');
    expect(formatRatio(Number.NaN)).toBe('-');
  });

  it('ratio is NaN for missing or zero denominators', () => {
    expect(ratio(1, 4)).toBe(0.25);
    expect(ratio(undefined, 4)).toBeNaN();
    expect(ratio(1, 0)).toBeNaN();
  });
});

describe('parseStatusMemory', () => {
  it('reads VmRSS and VmHWM from /proc/<pid>/status text', () => {
    const status = 'Name:\tnode\nVmPeak:\t 1000 kB\nVmHWM:\t  204800 kB\nVmRSS:\t  102400 kB\nThreads: 7\n';
    expect(parseStatusMemory(status)).toEqual({ rss: 100 * 2 ** 20, hwm: 200 * 2 ** 20 });
    expect(parseStatusMemory('Name:\tkthreadd\n')).toEqual({ rss: 0, hwm: 0 });
  });
});

describe('server CPU', () => {
  it('reads utime + stime from /proc/<pid>/stat text, whatever the command name holds', () => {
    const rest = 'S 1 2 3 4 5 6 7 8 9 10 250 40 7 8 20 0 12 0 100';
    expect(parseStatTicks(`4242 (node) ${rest}`)).toBe(290);
    expect(parseStatTicks(`4242 (a) b (c) ${rest}`)).toBe(290);
  });

  it("counts this process's CPU time as it works, in 10 ms ticks", () => {
    const before = processCpuMs(process.pid)!;
    // busy until the kernel has counted a tick (however loaded the machine), or 30 s went by
    const until = performance.now() + 30_000;
    while (processCpuMs(process.pid)! === before && performance.now() < until) {}
    const spent = processCpuMs(process.pid)! - before;
    expect(spent).toBeGreaterThanOrEqual(10);
    expect(spent % 10).toBe(0);
    expect(processCpuMs(2 ** 22 + 1)).toBeUndefined(); // above pid_max: no such process
  });

  it('waits for a busy server to go idle, and not for an idle one', async () => {
    const run = (code: string) => spawn(process.execPath, ['-e', code], { stdio: 'ignore' });
    const idle = run('setTimeout(() => {}, 10_000)');
    const busy = run(
      'const end = Date.now() + 1500; while (Date.now() < end) {} setTimeout(() => {}, 10_000)',
    );
    try {
      // a process busy for 1.5 s is waited for over several windows; an idle one for one window
      expect(await serverIdle(busy.pid!)).toBeGreaterThanOrEqual(500);
      expect(await serverIdle(idle.pid!)).toBeLessThan(1000);
      expect(await serverIdle(2 ** 22 + 1)).toBeLessThan(100); // no such process: nothing to wait for
    } finally {
      idle.kill();
      busy.kill();
    }
  });
});
