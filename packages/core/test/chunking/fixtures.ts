import { seededBytes } from '@ckpt/test-utils';

/** A piece of a synthetic file: random bytes, zeros, one repeated byte, or one repeated 4 KiB page. */
export type Piece = ['random' | 'zero' | 'fill' | 'pages', number];

/** Concatenates `pieces` into one buffer (deterministic from `seed`). */
export function buildFile(seed: number, pieces: Piece[]): Uint8Array {
  const total = pieces.reduce((n, [, length]) => n + length, 0);
  const out = new Uint8Array(total);
  const page = seededBytes(4096, seed ^ 0x5bd1e995);
  let at = 0;
  pieces.forEach(([kind, length], i) => {
    if (kind === 'random') out.set(seededBytes(length, seed + i * 7919), at);
    else if (kind === 'fill') out.fill(0xab, at, at + length);
    else if (kind === 'pages')
      for (let p = 0; p < length; p += 4096) out.set(page.subarray(0, Math.min(4096, length - p)), at + p);
    at += length;
  });
  return out;
}

/** Chunks without their `data`, for comparing lists. */
export function withoutData<T extends { data?: unknown }>(chunks: T[]): Omit<T, 'data'>[] {
  return chunks.map(({ data: _data, ...rest }) => rest);
}

export const KiB = 1024;
export const MiB = 1024 * 1024;
