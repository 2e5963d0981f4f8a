import { Readable } from 'node:stream';

const DEFAULT_CHUNK = 256 * 1024;

/**
 * Deterministic pseudo-random bytes (xorshift32): the same seed always gives the same bytes, and
 * they neither compress nor repeat, so a store that drops, reorders or duplicates a chunk is caught.
 */
export class PatternSource {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0 || 0x9e3779b9;
  }

  /** The next `length` bytes. Keep `length` a multiple of 4 (except the last call) for a seamless sequence. */
  next(length: number): Buffer {
    const words = new Uint32Array(Math.ceil(length / 4));
    let x = this.state;
    for (let i = 0; i < words.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      words[i] = x >>> 0;
    }
    this.state = x >>> 0;
    return Buffer.from(words.buffer, 0, length);
  }
}

/** `size` deterministic bytes in memory: for small objects only. */
export function patternBytes(size: number, seed: number): Buffer {
  return new PatternSource(seed).next(size);
}

/**
 * The same bytes as {@link patternBytes}, generated chunk by chunk as the consumer pulls them:
 * never more than a chunk or two in memory, whatever `size` is.
 */
export function patternStream(
  size: number,
  seed: number,
  { chunkSize = DEFAULT_CHUNK, onChunk }: { chunkSize?: number; onChunk?: (bytes: number) => void } = {},
): Readable {
  if (chunkSize % 4 !== 0) throw new RangeError('chunkSize must be a multiple of 4');
  const source = new PatternSource(seed);
  let sent = 0;
  return new Readable({
    highWaterMark: chunkSize,
    read() {
      if (sent >= size) {
        this.push(null);
        return;
      }
      const chunk = source.next(Math.min(chunkSize, size - sent));
      sent += chunk.length;
      onChunk?.(chunk.length);
      this.push(chunk);
    },
  });
}
