import type { ProgressEvent, SyncPhase } from './types.js';

/** Counts one phase's progress and reports it at most every `intervalMs` (and always at the end). */
export class Progress {
  private event: ProgressEvent;
  private last = 0;

  constructor(
    phase: SyncPhase,
    totals: { bytes: number; files: number },
    private readonly listener: ((event: ProgressEvent) => void) | undefined,
    private readonly intervalMs = 100,
  ) {
    this.event = { phase, bytesDone: 0, bytesTotal: totals.bytes, filesDone: 0, filesTotal: totals.files };
    this.emit(true);
  }

  add(bytes: number, files = 0): void {
    this.event.bytesDone += bytes;
    this.event.filesDone += files;
    this.emit(false);
  }

  done(): void {
    this.event.bytesDone = this.event.bytesTotal;
    this.event.filesDone = this.event.filesTotal;
    this.emit(true);
  }

  private emit(force: boolean): void {
    if (!this.listener) return;
    const now = Date.now();
    if (!force && now - this.last < this.intervalMs) return;
    this.last = now;
    this.listener({ ...this.event });
  }
}
