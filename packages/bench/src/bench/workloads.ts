import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { generateCheckpoint } from '../workload/generate.js';
import type { WorkloadOptions } from '../workload/options.js';
import { oracle } from '../workload/oracle.js';
import { planCheckpoint } from '../workload/plan.js';
import { formatBytes } from './stats.js';
import type { WorkloadInfo } from './types.js';

/** A checkpoint directory to generate: a version of a workload. */
export interface WorkloadSpec {
  /** Unique: also the directory name. */
  name: string;
  version: 0 | 1;
  options: WorkloadOptions;
}

/** Version 0 of the main workload. */
export function baseSpec(totalBytes: number): WorkloadSpec {
  return { name: `v0-${totalBytes}`, version: 0, options: { totalBytes } };
}

/** Version 1 of the main workload with `rewriteFraction` of its data pages rewritten (default 5 %). */
export function nextSpec(totalBytes: number, rewriteFraction = 0.05): WorkloadSpec {
  return {
    name: `v1-${totalBytes}-${rewriteFraction}`,
    version: 1,
    options: { totalBytes, rewriteFraction },
  };
}

/** `5%`, `0.5%`, `100%`. */
export function percent(fraction: number): string {
  return `${Math.round(fraction * 1000) / 10}%`;
}

/** Files other than the per-thread ones that a small-files workload always has. */
function fixedFiles(options: WorkloadOptions): number {
  return planCheckpoint(0, 0, { ...options, small: { ...options.small, threads: 0 } }).files.length;
}

/**
 * Version 0 of a workload of about `count` files, nearly all small (`core-<tid>.img` of many
 * threads, 50 B–64 KiB), beside one pages file as large as all of them: 128 MiB in all for 10,000
 * files (in proportion for fewer, at least 8 MiB).
 */
export function smallFilesSpec(count: number): WorkloadSpec {
  const options: WorkloadOptions = {
    totalBytes: Math.max(8, Math.round((128 * Math.min(count, 10_000)) / 10_000)) * 2 ** 20,
    pagesSplit: [1],
    medium: { count: 0 },
    rootfs: { count: 0 },
    small: { share: 0.5 },
  };
  const threads = Math.max(0, count - fixedFiles(options));
  return { name: `small-${count}`, version: 0, options: { ...options, small: { share: 0.5, threads } } };
}

/** Generates workload directories on first use under `root` and remembers what they hold. */
export class Workloads {
  /** Directories present now, by workload name. */
  private readonly dirs = new Map<string, string>();
  /** Everything generated in this run, by workload name. */
  private readonly infos = new Map<string, WorkloadInfo>();

  constructor(
    private readonly root: string,
    private readonly seed: number,
    private readonly log: (line: string) => void,
  ) {}

  /** The directory holding `spec`, generated now if needed. */
  async dir(spec: WorkloadSpec): Promise<string> {
    const known = this.dirs.get(spec.name);
    if (known) return known;
    const dir = join(this.root, spec.name);
    await rm(dir, { recursive: true, force: true });
    const generated = await generateCheckpoint(dir, {
      ...spec.options,
      seed: this.seed,
      version: spec.version,
    });
    const info: WorkloadInfo = {
      name: spec.name,
      files: generated.files,
      bytes: generated.bytes,
      zeroBytes: generated.zeroBytes,
    };
    if (spec.version === 1) {
      info.oracleBytes = oracle(this.seed, 0, 1, spec.options).newBytes;
      info.rewriteFraction = spec.options.rewriteFraction ?? 0.05;
    }
    this.log(
      `generated ${spec.name}: ${generated.files} files, ${formatBytes(generated.bytes)} in ${generated.seconds.toFixed(1)} s`,
    );
    this.dirs.set(spec.name, dir);
    this.infos.set(spec.name, info);
    return dir;
  }

  /** What `dir(spec)` generated. */
  info(spec: WorkloadSpec): WorkloadInfo {
    const info = this.infos.get(spec.name);
    if (!info) throw new Error(`workload ${spec.name} was not generated`);
    return info;
  }

  /** Every workload generated so far. */
  all(): WorkloadInfo[] {
    return [...this.infos.values()];
  }

  /** Deletes a workload's directory (its info stays). */
  async remove(spec: WorkloadSpec): Promise<void> {
    const dir = this.dirs.get(spec.name);
    this.dirs.delete(spec.name);
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}
