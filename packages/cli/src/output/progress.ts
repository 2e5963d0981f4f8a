import type { ProgressEvent, SyncPhase } from '@ckpt/core';
import { MultiBar, type SingleBar } from 'cli-progress';
import { formatBytes, formatCount, formatDuration, formatRate } from '../format.js';

/** Receives the engine's progress events; `stop()` clears the bars before the summary is printed. */
export interface ProgressHandler {
  onProgress(event: ProgressEvent): void;
  stop(): void;
}

export interface ProgressOptions {
  /** Draw bars (stderr is a terminal, or `--progress`). */
  tty: boolean;
  stream: NodeJS.WriteStream;
  /** Verbose log line, used without bars to name each phase as it starts. */
  log(message: string): void;
  /** Without bars, a line saying how far the running phase got, every `intervalMs`. */
  report(message: string): void;
  /** Default 30 s. */
  intervalMs?: number;
  /** Print those lines. Default true. */
  lines?: boolean;
}

/** Phases that get a bar; `commit` is a single small write. */
const BAR_PHASES: readonly SyncPhase[] = ['scan', 'upload', 'download', 'verify'];

interface PhaseState {
  startedAt: number;
  bar?: SingleBar;
}

/**
 * Bars per phase (bytes, files, rate, ETA) on a terminal; otherwise one verbose line as each phase
 * starts and, for logs of long transfers, a line on the running phase every `intervalMs`. Events
 * after `stop()` are ignored.
 */
export function progressHandler(options: ProgressOptions): ProgressHandler {
  const phases = new Map<SyncPhase, PhaseState>();
  let bars: MultiBar | undefined;
  let stopped = false;
  let latest: { event: ProgressEvent; startedAt: number } | undefined;
  const timer =
    options.tty || options.lines === false
      ? undefined
      : setInterval(() => {
          if (latest && latest.event.bytesDone < latest.event.bytesTotal)
            options.report(
              renderLine({ barsize: 0 }, { progress: progressOf(latest.event) }, latest).replace(
                / {2,}/g,
                ' ',
              ),
            );
        }, options.intervalMs ?? 30_000).unref();

  return {
    onProgress(event) {
      if (stopped) return;
      let state = phases.get(event.phase);
      if (!state) {
        state = { startedAt: Date.now() };
        phases.set(event.phase, state);
        if (!options.tty) options.log(describePhase(event));
      }
      if (BAR_PHASES.includes(event.phase)) latest = { event, startedAt: state.startedAt };
      if (!options.tty || !BAR_PHASES.includes(event.phase)) return;
      bars ??= new MultiBar({
        stream: options.stream,
        format: renderLine,
        hideCursor: true,
        barsize: 24,
        fps: 10,
        barCompleteChar: '█',
        barIncompleteChar: '░',
      });
      const payload = { event, startedAt: state.startedAt };
      if (!state.bar) state.bar = bars.create(Math.max(event.bytesTotal, 1), event.bytesDone, payload);
      else {
        state.bar.setTotal(Math.max(event.bytesTotal, 1));
        state.bar.update(event.bytesDone, payload);
      }
    },
    stop() {
      stopped = true;
      clearInterval(timer);
      bars?.stop();
      bars = undefined;
    },
  };
}

function progressOf(event: ProgressEvent): number {
  return event.bytesTotal > 0 ? event.bytesDone / event.bytesTotal : 0;
}

/** `upload: 312 files, 3.00 GiB`, or just `commit` when the phase has no totals. */
function describePhase(event: ProgressEvent): string {
  if (event.filesTotal === 0 && event.bytesTotal === 0) return event.phase;
  return `${event.phase}: ${formatCount(event.filesTotal)} files, ${formatBytes(event.bytesTotal)}`;
}

type LinePayload = { event: ProgressEvent; startedAt: number };

/** `upload   ████████░░░░  62% 1.9 GiB/3.0 GiB  180/312 files  250 MiB/s  ETA 4.6 s` */
function renderLine(
  options: { barsize?: number; barCompleteString?: string; barIncompleteString?: string },
  params: { progress: number },
  payload: LinePayload,
): string {
  const { event, startedAt } = payload;
  const size = options.barsize ?? 24;
  const filled = Math.round(Math.min(1, params.progress) * size);
  const bar =
    (options.barCompleteString ?? '').slice(0, filled) +
    (options.barIncompleteString ?? '').slice(0, size - filled);
  const elapsed = Math.max(Date.now() - startedAt, 1);
  const rate = (event.bytesDone / elapsed) * 1000;
  const left = event.bytesTotal - event.bytesDone;
  const eta = rate > 0 && left > 0 ? `ETA ${formatDuration(Math.ceil(left / rate) * 1000)}` : '';
  const percent = `${Math.floor(Math.min(1, params.progress) * 100)}%`.padStart(4);
  return [
    event.phase.padEnd(8),
    bar,
    percent,
    `${formatBytes(event.bytesDone)}/${formatBytes(event.bytesTotal)}`,
    `${formatCount(event.filesDone)}/${formatCount(event.filesTotal)} files`,
    formatRate(rate),
    eta,
  ].join('  ');
}
