/** Deterministic test bytes (xorshift32): the same seed always gives the same buffer. */
export function seededBytes(seed: number, length: number): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

/** A piece of a synthetic file: random bytes, zeros, one repeated byte, or one repeated 4 KiB page. */
export type Piece = ['random' | 'zero' | 'fill' | 'pages', number];

/** Concatenates `pieces` into one buffer (deterministic from `seed`). */
export function buildFile(seed: number, pieces: Piece[]): Uint8Array {
  const total = pieces.reduce((n, [, length]) => n + length, 0);
  const out = new Uint8Array(total);
  const page = seededBytes(seed ^ 0x5bd1e995, 4096);
  let at = 0;
  pieces.forEach(([kind, length], i) => {
    if (kind === 'random') out.set(seededBytes(seed + i * 7919, length), at);
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
