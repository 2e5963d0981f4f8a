import { createHash } from 'node:crypto';
import { StoreError } from '@ckpt/core';

/** What a workload is derived from: the same seed always gives the same bytes. */
export type WorkloadSeed = number | string;

/** Gives an independent generator per purpose, so that one knob does not move another's draws. */
export type RngFor = (...purpose: (string | number)[]) => Rng;

/** Checks a seed: a safe integer or a non-empty string. */
export function checkSeed(seed: unknown): WorkloadSeed {
  if ((typeof seed === 'number' && Number.isSafeInteger(seed)) || (typeof seed === 'string' && seed !== '')) {
    return seed;
  }
  throw new StoreError(
    'InvalidArgument',
    `seed must be a safe integer or a non-empty string (got ${String(seed)})`,
    {
      operation: 'workload options',
    },
  );
}

/** Four 32-bit words derived from the seed and labels (SHA-256): independent streams per purpose. */
export function seedWords(seed: WorkloadSeed, ...labels: (string | number)[]): Uint32Array {
  const digest = createHash('sha256')
    .update(JSON.stringify(['ckpt-workload', String(seed), ...labels]))
    .digest();
  return new Uint32Array([
    digest.readUInt32LE(0),
    digest.readUInt32LE(4),
    digest.readUInt32LE(8),
    digest.readUInt32LE(12),
  ]);
}

/** The murmur3 finaliser: a bijection on 32-bit integers that mixes every bit. */
export function fmix32(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * A small seeded generator (sfc32) for the decisions of the workload model: region lengths, kinds,
 * file sizes, mutation runs. Not for page bytes (see `page-content.ts`).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: WorkloadSeed, ...labels: (string | number)[]) {
    const w = seedWords(seed, ...labels);
    [this.a, this.b, this.c, this.d] = [w[0]!, w[1]!, w[2]!, w[3]! | 1];
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** A uniform 32-bit unsigned integer. */
  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [min, max). */
  between(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  /** An integer in [min, max], log-uniform (every doubling equally likely). */
  logUniform(min: number, max: number): number {
    if (max <= min) return min;
    const lo = Math.log(Math.max(1, min));
    const value = Math.exp(lo + (Math.log(max + 1) - lo) * this.next());
    if (value < min) return min;
    return Math.min(max, Math.floor(value));
  }

  /** A geometric integer ≥ 0 with the given mean. */
  geometric(mean: number): number {
    if (mean <= 0) return 0;
    return Math.floor(Math.log(1 - this.next()) / Math.log1p(-1 / (mean + 1)));
  }

  /** A key of `weights` chosen with probability proportional to its weight. */
  weighted<K extends string>(weights: Readonly<Record<K, number>>): K {
    const entries = Object.entries(weights) as [K, number][];
    let x = this.next() * entries.reduce((sum, [, w]) => sum + w, 0);
    for (const [key, w] of entries) {
      x -= w;
      if (x < 0) return key;
    }
    return entries.findLast(([, w]) => w > 0)![0];
  }

  /** Shuffles `items` in place (Fisher–Yates) and returns it. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j]!, items[i]!];
    }
    return items;
  }
}
