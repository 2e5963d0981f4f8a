/**
 * `size` deterministic pseudo-random bytes (xorshift32: fast, seeded, not crypto): the same seed
 * always gives the same bytes, and a buffer is a prefix of a longer one of the same seed. Seed 0
 * is taken as 1 (xorshift never leaves 0).
 */
export function seededBytes(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer, 0, size);
}
