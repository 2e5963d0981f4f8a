import { StoreError } from '@ckpt/core';

/** Bytes in one memory page: the unit of every pages file, of mutations and of the oracle. */
export const PAGE_BYTES = 4096;

const KiB = 1024;
const MiB = 1024 * KiB;
const GiB = 1024 * MiB;

/**
 * How the pages of the `pages-N.img` files divide between four kinds of content (weights, any scale).
 * - `zero`: all-zero pages (a KV cache allocated but unused).
 * - `random`: incompressible pages unique to their place (weights, activations).
 * - `dictionary`: pages drawn from one small shared dictionary (the same library pages mapped in
 *   several processes): they deduplicate.
 * - `text`: compressible, text-like pages (heaps full of strings).
 */
export interface PageMix {
  zero: number;
  random: number;
  dictionary: number;
  text: number;
}

/**
 * Named page mixes:
 * - `default`: 45 % zero, 35 % random, 15 % dictionary, 5 % text.
 * - `mostly-zeros`: a checkpoint that kept a large, mostly empty KV cache.
 * - `mostly-random`: a checkpoint holding model weights offloaded to host memory.
 */
export type WorkloadPreset = 'default' | 'mostly-zeros' | 'mostly-random';

/** The page mix of each preset. */
export const PRESETS: Readonly<Record<WorkloadPreset, Readonly<PageMix>>> = {
  default: { zero: 0.45, random: 0.35, dictionary: 0.15, text: 0.05 },
  'mostly-zeros': { zero: 0.8, random: 0.12, dictionary: 0.05, text: 0.03 },
  'mostly-random': { zero: 0.1, random: 0.8, dictionary: 0.07, text: 0.03 },
};

/** An inclusive size range in bytes. */
export interface ByteRange {
  min: number;
  max: number;
}

/**
 * A group of non-pages files: how many, how large (drawn log-uniform from `min..max`), and the
 * share of `totalBytes` they may take at most (sizes are scaled down together to fit it).
 */
export interface FileGroupOptions extends ByteRange {
  count: number;
  share: number;
}

/** The per-process and per-thread small files (`mm-<pid>.img`, `core-<tid>.img`, …). */
export interface SmallFilesOptions extends ByteRange {
  processes: number;
  threads: number;
  share: number;
}

/** What becomes of each medium and `rootfs/` file in the next version (weights, any scale). */
export interface MediumChangeMix {
  same: number;
  tail: number;
  replaced: number;
}

/**
 * Every knob of the workload. All are optional; the defaults describe a 3 GiB checkpoint of a
 * vLLM process (see `shared/notes/workload.md`). Sizes marked "scaled" shrink in proportion for a
 * `totalBytes` below `referenceTotalBytes`, so that small test workloads keep their shape.
 */
export interface WorkloadOptions {
  /** Size of the checkpoint (version 0). Default 3 GiB; at least 1 MiB. */
  totalBytes?: number;
  /** The page mix by name. Default `default`. */
  preset?: WorkloadPreset;
  /** Overrides the preset's page mix, field by field. */
  mix?: Partial<PageMix>;
  /** Relative sizes of `pages-1.img … pages-P.img`. Default `[0.7, 0.2, 0.1]`. */
  pagesSplit?: number[];
  /** Lengths of the content regions of a pages file, log-uniform. Default 16 KiB–256 MiB (max scaled). */
  regionBytes?: Partial<ByteRange>;
  /** Size of the shared page dictionary. Default 32 MiB (scaled). */
  dictionaryBytes?: number;
  /** The total at which no size is scaled. Default 3 GiB. */
  referenceTotalBytes?: number;
  /** Medium files. Default 30 files of 64 KiB–16 MiB, at most 1.2 % of the total. */
  medium?: Partial<FileGroupOptions>;
  /** The nested `rootfs/` tree. Default 40 files of 100 KiB–20 MiB, at most 1.8 % of the total. */
  rootfs?: Partial<FileGroupOptions>;
  /** Small files. Default 8 processes, 120 threads, 50 B–64 KiB each, at most 0.3 % of the total. */
  small?: Partial<SmallFilesOptions>;
  /** Bytes generated and written at a time. Default 8 MiB; a multiple of 4 KiB. */
  blockBytes?: number;

  /** Next version: fraction of data pages rewritten. Default 0.05. */
  rewriteFraction?: number;
  /** Next version: mean length in pages of every mutated run (geometric). Default 64. */
  runPages?: number;
  /** Next version: fraction of zero pages that become data. Default 0.02. */
  zeroToDataFraction?: number;
  /** Next version: fraction of data pages that become zero. Default 0.01. */
  dataToZeroFraction?: number;
  /** Next version: regions inserted into the pages files (shifting what follows). Default 3. */
  inserts?: number;
  /** Next version: regions deleted from the pages files. Default 1. */
  deletes?: number;
  /** Next version: lengths of inserted and deleted regions, log-uniform. Default 4 KiB–64 MiB (max scaled). */
  insertBytes?: Partial<ByteRange>;
  /** Next version: every process and thread gets a new id, renaming its files. Default false. */
  pidChurn?: boolean;
  /** Next version: fraction of small files rewritten. Default 0.8. */
  smallRewriteFraction?: number;
  /** Next version: fraction of small files removed, and as many added (thread churn). Default 0.05. */
  smallChurnFraction?: number;
  /** Next version: what happens to medium and rootfs files. Default 30 % same, 50 % tail, 20 % replaced. */
  mediumChange?: Partial<MediumChangeMix>;
}

/** {@link WorkloadOptions} with every default applied, scaling done and mixes normalised. */
export interface WorkloadConfig {
  totalBytes: number;
  preset: WorkloadPreset;
  mix: PageMix;
  pagesSplit: number[];
  regionPages: ByteRange;
  dictionaryPages: number;
  medium: FileGroupOptions;
  rootfs: FileGroupOptions;
  small: SmallFilesOptions;
  blockBytes: number;
  rewriteFraction: number;
  runPages: number;
  zeroToDataFraction: number;
  dataToZeroFraction: number;
  inserts: number;
  deletes: number;
  insertPages: ByteRange;
  pidChurn: boolean;
  smallRewriteFraction: number;
  smallChurnFraction: number;
  mediumChange: MediumChangeMix;
}

function invalid(field: string, detail: string): StoreError {
  return new StoreError('InvalidArgument', `${field} ${detail}`, { operation: 'workload options' });
}

function num(field: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY, integer = false) {
  if (typeof value !== 'number' || !Number.isFinite(value) || (integer && !Number.isInteger(value))) {
    throw invalid(field, `must be a finite ${integer ? 'integer' : 'number'} (got ${String(value)})`);
  }
  if (value < min || value > max) throw invalid(field, `must be between ${min} and ${max} (got ${value})`);
  return value;
}

function flag(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') throw invalid(field, `must be true or false (got ${String(value)})`);
  return value;
}

function range(field: string, given: Partial<ByteRange> | undefined, fallback: ByteRange): ByteRange {
  const min = num(`${field}.min`, given?.min ?? fallback.min, 0, Number.MAX_SAFE_INTEGER, true);
  const max = num(`${field}.max`, given?.max ?? fallback.max, 0, Number.MAX_SAFE_INTEGER, true);
  if (min > max) throw invalid(field, `min (${min}) must not exceed max (${max})`);
  return { min, max };
}

function weights<T extends object>(field: string, value: T): T {
  let sum = 0;
  for (const [k, v] of Object.entries(value)) sum += num(`${field}.${k}`, v, 0);
  if (sum <= 0) throw invalid(field, 'must have a positive weight');
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, v / sum])) as T;
}

/** Only the known fields of a weights object (unknown ones are ignored, not weighed). */
function pick<T extends object, K extends keyof T>(value: T, keys: K[]): Pick<T, K> {
  return Object.fromEntries(keys.map((k) => [k, value[k]])) as Pick<T, K>;
}

function group(field: string, given: Partial<FileGroupOptions> | undefined, d: FileGroupOptions) {
  return {
    ...range(field, given, d),
    count: num(`${field}.count`, given?.count ?? d.count, 0, 100_000, true),
    share: num(`${field}.share`, given?.share ?? d.share, 0, 0.5),
  };
}

/** Applies defaults, checks every knob (a bad one throws `InvalidArgument` naming it) and scales sizes. */
export function resolveWorkloadOptions(options: WorkloadOptions = {}): WorkloadConfig {
  const o = options;
  const totalBytes = num('totalBytes', o.totalBytes ?? 3 * GiB, MiB, Number.MAX_SAFE_INTEGER, true);
  const preset = o.preset ?? 'default';
  if (!Object.hasOwn(PRESETS, preset)) {
    throw invalid('preset', `must be one of ${Object.keys(PRESETS).join(', ')} (got ${String(preset)})`);
  }
  const reference = num('referenceTotalBytes', o.referenceTotalBytes ?? 3 * GiB, MiB);
  const scale = Math.min(1, totalBytes / reference);
  const toPages = (bytes: number) => Math.max(1, Math.floor(bytes / PAGE_BYTES));
  const scaledPages = (r: ByteRange): ByteRange => {
    const min = toPages(r.min);
    return { min, max: Math.max(min, toPages(r.max * scale)) };
  };
  const split = o.pagesSplit ?? [0.7, 0.2, 0.1];
  if (!Array.isArray(split) || split.length === 0 || split.length > 1000) {
    throw invalid('pagesSplit', 'must list 1 to 1000 weights');
  }
  const splitSum = split.reduce((sum, w, i) => sum + num(`pagesSplit[${i}]`, w, Number.MIN_VALUE), 0);
  const blockBytes = num('blockBytes', o.blockBytes ?? 8 * MiB, PAGE_BYTES, 256 * MiB, true);
  if (blockBytes % PAGE_BYTES !== 0) throw invalid('blockBytes', `must be a multiple of ${PAGE_BYTES}`);
  const small = o.small;
  return {
    totalBytes,
    preset,
    mix: weights('mix', pick({ ...PRESETS[preset], ...o.mix }, ['zero', 'random', 'dictionary', 'text'])),
    pagesSplit: split.map((w) => w / splitSum),
    regionPages: scaledPages(range('regionBytes', o.regionBytes, { min: 16 * KiB, max: 256 * MiB })),
    dictionaryPages: toPages(num('dictionaryBytes', o.dictionaryBytes ?? 32 * MiB, PAGE_BYTES) * scale),
    medium: group('medium', o.medium, { count: 30, min: 64 * KiB, max: 16 * MiB, share: 0.012 }),
    rootfs: group('rootfs', o.rootfs, { count: 40, min: 100 * KiB, max: 20 * MiB, share: 0.018 }),
    small: {
      ...range('small', small, { min: 50, max: 64 * KiB }),
      processes: num('small.processes', small?.processes ?? 8, 1, 10_000, true),
      threads: num('small.threads', small?.threads ?? 120, 0, 1_000_000, true),
      share: num('small.share', small?.share ?? 0.003, 0, 0.5),
    },
    blockBytes,
    rewriteFraction: num('rewriteFraction', o.rewriteFraction ?? 0.05, 0, 1),
    runPages: num('runPages', o.runPages ?? 64, 1, 1 << 30),
    zeroToDataFraction: num('zeroToDataFraction', o.zeroToDataFraction ?? 0.02, 0, 1),
    dataToZeroFraction: num('dataToZeroFraction', o.dataToZeroFraction ?? 0.01, 0, 1),
    inserts: num('inserts', o.inserts ?? 3, 0, 100_000, true),
    deletes: num('deletes', o.deletes ?? 1, 0, 100_000, true),
    insertPages: scaledPages(range('insertBytes', o.insertBytes, { min: 4 * KiB, max: 64 * MiB })),
    pidChurn: flag('pidChurn', o.pidChurn ?? false),
    smallRewriteFraction: num('smallRewriteFraction', o.smallRewriteFraction ?? 0.8, 0, 1),
    smallChurnFraction: num('smallChurnFraction', o.smallChurnFraction ?? 0.05, 0, 1),
    mediumChange: weights(
      'mediumChange',
      pick({ same: 0.3, tail: 0.5, replaced: 0.2, ...o.mediumChange }, ['same', 'tail', 'replaced']),
    ),
  };
}
