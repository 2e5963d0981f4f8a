import { createHash } from 'node:crypto';
import type { CheckpointPlan, PlannedFile } from './model.js';
import { PAGE_BYTES, resolveWorkloadOptions, type WorkloadOptions } from './options.js';
import { type ContentContext, contentContext, fileChunks, type Segment } from './page-content.js';
import { checkVersion, planWithConfig } from './plan.js';
import type { WorkloadSeed } from './rng.js';
import { pieceOf } from './segments.js';

/**
 * How much of version `toVersion` is truly new against `fromVersion`. Every file is cut into
 * 4 KiB blocks at 4 KiB offsets (the last block of a file may be shorter); a block is new when no
 * block of the old version, in any file, has the same bytes. All-zero blocks are never new.
 * An incremental push cannot store less than `newBytes` without compression.
 */
export interface OracleResult {
  fromVersion: number;
  toVersion: number;
  /** Bytes of new blocks in the new version. */
  newBytes: number;
  /** Of `newBytes`, those in `pages-N.img` files. */
  newPagesBytes: number;
  /** Of `newBytes`, those in every other file. */
  newOtherBytes: number;
  /** Total size of the new version. */
  toBytes: number;
}

/** Calls `whole` for each segment's run of whole blocks of a file, `partial` for its final short block. */
function forEachBlock(
  file: PlannedFile,
  whole: (segment: Segment, first: number, count: number) => void,
  partial: (segment: Segment, index: number, length: number) => void,
): void {
  const full = Math.floor(file.size / PAGE_BYTES);
  const tail = file.size % PAGE_BYTES;
  let pos = 0;
  for (const segment of file.segments) {
    const count = Math.min(segment.pages, full - pos);
    if (count > 0) whole(segment, 0, count);
    if (tail > 0 && pos <= full && full < pos + segment.pages) partial(segment, full - pos, tail);
    pos += segment.pages;
  }
}

/** The set of non-zero blocks of one version, by content identity. */
class BlockIndex {
  private readonly ranges = new Map<string, number[]>();
  private readonly dictionary: Uint8Array;
  private readonly partials = new Set<string>();

  private readonly ctx: ContentContext;

  constructor(
    plan: CheckpointPlan,
    private readonly dictionaryPages = plan.config.dictionaryPages,
  ) {
    this.ctx = contentContext(plan);
    this.dictionary = new Uint8Array(dictionaryPages);
    for (const file of plan.files) {
      forEachBlock(
        file,
        (s, first, count) => this.addWhole(s, first, count),
        (s, index, length) => {
          if (s.kind !== 'zero') this.partials.add(this.partialKey(s, index, length));
        },
      );
    }
    for (const [key, flat] of this.ranges) this.ranges.set(key, merge(flat));
  }

  private addWhole(s: Segment, first: number, count: number): void {
    if (s.kind === 'zero') return;
    if (s.kind === 'dictionary') {
      for (let k = 0; k < Math.min(count, this.dictionaryPages); k++) {
        this.dictionary[(s.start + first + k) % this.dictionaryPages] = 1;
      }
      return;
    }
    const key = `${s.kind}:${s.stream}`;
    const list = this.ranges.get(key) ?? [];
    list.push(s.start + first, s.start + first + count);
    this.ranges.set(key, list);
  }

  /**
   * Short blocks are compared by their bytes: two different pages may begin with the same few
   * bytes (text pages start with a word from a small vocabulary). There is one per file at most.
   */
  private partialKey(s: Segment, index: number, length: number): string {
    const [bytes] = fileChunks({ size: length, segments: [pieceOf(s, index, 1)] }, this.ctx, PAGE_BYTES);
    return createHash('sha256').update(bytes!).digest('base64');
  }

  /** Pages of `[first, first + count)` of `s` absent from this version. */
  newWhole(s: Segment, first: number, count: number): number {
    if (s.kind === 'zero') return 0;
    if (s.kind === 'dictionary') {
      let fresh = 0;
      for (let k = 0; k < count; k++)
        fresh += 1 - this.dictionary[(s.start + first + k) % this.dictionaryPages]!;
      return fresh;
    }
    return (
      count -
      overlap(this.ranges.get(`${s.kind}:${s.stream}`) ?? [], s.start + first, s.start + first + count)
    );
  }

  /** Whether the partial block is absent from this version. */
  newPartial(s: Segment, index: number, length: number): boolean {
    return s.kind !== 'zero' && !this.partials.has(this.partialKey(s, index, length));
  }
}

/** Sorts and merges flat `[start, end, start, end, …]` ranges. */
function merge(flat: number[]): number[] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  pairs.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [s, e] of pairs) {
    if (out.length > 0 && s <= out[out.length - 1]!) out[out.length - 1] = Math.max(out[out.length - 1]!, e);
    else out.push(s, e);
  }
  return out;
}

/** Length of the intersection of `[start, end)` with merged flat ranges. */
function overlap(merged: number[], start: number, end: number): number {
  let lo = 0;
  let hi = merged.length / 2;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (merged[2 * mid + 1]! <= start) lo = mid + 1;
    else hi = mid;
  }
  let total = 0;
  for (let i = lo; i < merged.length / 2 && merged[2 * i]! < end; i++) {
    total += Math.min(end, merged[2 * i + 1]!) - Math.max(start, merged[2 * i]!);
  }
  return total;
}

/** The oracle between two plans of the same workload (see {@link OracleResult}). */
export function oracleOfPlans(from: CheckpointPlan, to: CheckpointPlan): OracleResult {
  const index = new BlockIndex(from);
  const result: OracleResult = {
    fromVersion: from.version,
    toVersion: to.version,
    newBytes: 0,
    newPagesBytes: 0,
    newOtherBytes: 0,
    toBytes: 0,
  };
  for (const file of to.files) {
    let fresh = 0;
    forEachBlock(
      file,
      (s, first, count) => {
        fresh += index.newWhole(s, first, count) * PAGE_BYTES;
      },
      (s, i, length) => {
        if (index.newPartial(s, i, length)) fresh += length;
      },
    );
    result.toBytes += file.size;
    result.newBytes += fresh;
    if (file.group === 'pages') result.newPagesBytes += fresh;
    else result.newOtherBytes += fresh;
  }
  return result;
}

/**
 * The oracle of truly new bytes between two versions of the workload of `seed`, computed exactly
 * from the model (no files needed).
 *
 * @example
 * ```ts
 * const { newBytes, toBytes } = oracle(7, 0, 1, { totalBytes: 3 * 2 ** 30 });
 * ```
 */
export function oracle(
  seed: WorkloadSeed,
  fromVersion: number,
  toVersion: number,
  options: WorkloadOptions = {},
): OracleResult {
  const config = resolveWorkloadOptions(options);
  checkVersion('fromVersion', fromVersion);
  checkVersion('toVersion', toVersion);
  return oracleOfPlans(planWithConfig(seed, fromVersion, config), planWithConfig(seed, toVersion, config));
}
