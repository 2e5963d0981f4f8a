import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

const MiB = 1024 * 1024;
/** Collect garbage after this many streamed bytes, so dead chunks do not count as growth. */
const GC_EVERY_BYTES = 4 * MiB;

let cachedGc: (() => void) | null | undefined;

/** V8's `gc()`, enabled at run time when the process was not started with `--expose-gc`. */
function garbageCollector(): (() => void) | undefined {
  if (cachedGc === undefined) {
    const existing = (globalThis as { gc?: () => void }).gc;
    try {
      if (typeof existing === 'function') cachedGc = existing;
      else {
        setFlagsFromString('--expose-gc');
        const gc: unknown = runInNewContext('gc');
        cachedGc = typeof gc === 'function' ? (gc as () => void) : null;
      }
    } catch {
      cachedGc = null;
    }
  }
  return cachedGc ?? undefined;
}

/**
 * Measures the largest rise of the process RSS above its lowest earlier value while something
 * streams (the low point, not the first sample: memory freed by the first collection reaches the
 * OS a little later). Garbage is collected at the start and every few MiB of progress: chunks
 * already passed on are not counted, an object the code under test holds on to is.
 */
export class RssSampler {
  private readonly gc = garbageCollector();
  private low = Number.POSITIVE_INFINITY;
  private rise = 0;
  private sinceGc = 0;
  private readonly timer: NodeJS.Timeout;

  private constructor() {
    this.gc?.();
    this.sample();
    this.timer = setInterval(() => this.sample(), 10);
    this.timer.unref();
  }

  static start(): RssSampler {
    return new RssSampler();
  }

  /** False when garbage cannot be collected on demand: growth then includes dead chunks. */
  get collectsGarbage(): boolean {
    return this.gc !== undefined;
  }

  /** Call for every chunk that streams through: samples RSS and collects garbage now and then. */
  progress(bytes: number): void {
    this.sinceGc += bytes;
    if (this.sinceGc >= GC_EVERY_BYTES) {
      this.sinceGc = 0;
      this.gc?.();
    }
    this.sample();
  }

  /** Stops sampling; returns the largest RSS rise seen, in bytes. */
  stop(): number {
    clearInterval(this.timer);
    this.sample();
    return this.rise;
  }

  private sample(): void {
    const rss = process.memoryUsage().rss;
    this.low = Math.min(this.low, rss);
    this.rise = Math.max(this.rise, rss - this.low);
  }
}

/**
 * The RSS growth allowed while streaming an object of `size` bytes: well below the object size
 * (an adapter that holds the object fails), yet room for part buffers, sockets and a noisy machine.
 */
export function memoryLimit(size: number, collectsGarbage: boolean): number {
  return Math.max(48 * MiB, size / 4) + (collectsGarbage ? 0 : 64 * MiB);
}

/** `12.3 MiB` */
export function formatBytes(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
