import type { Chunk } from './types.js';

/** The offset just past `chunk`. */
export function chunkEnd(chunk: Chunk): number {
  return chunk.offset + chunk.length;
}

/**
 * Where a segment's scan (`next`, which assumed a chunk started at its segment start) rejoins the
 * true extent list, known up to `from` and continued by `tail` (true extents the previous segment's
 * scan found past its segment end). From any offset where both have a boundary the two scans are
 * identical, so the answer is: keep `tail[0, keep)`, then continue with `next[resume…]`.
 * Undefined when they share no boundary (the caller rescans from the end of `tail`).
 */
export function findJoin(
  from: number,
  tail: readonly Chunk[],
  next: readonly Chunk[],
): { keep: number; resume: number } | undefined {
  const starts = new Map(next.map((chunk, i) => [chunk.offset, i]));
  let at = from;
  for (let keep = 0; ; keep++) {
    const resume = starts.get(at);
    if (resume !== undefined) return { keep, resume };
    const chunk = tail[keep];
    if (!chunk) return undefined;
    at = chunkEnd(chunk);
  }
}

/**
 * Collects extents for output, merging adjacent zero extents (segments cut zero runs at their
 * edges) and holding the last zero extent back until its end is known.
 */
export class ZeroRunJoiner {
  #pending: Chunk | undefined;
  #ready: Chunk[] = [];

  push(chunk: Chunk): void {
    const pending = this.#pending;
    if (chunk.hash === null && pending && chunkEnd(pending) === chunk.offset) {
      pending.length += chunk.length;
      return;
    }
    if (pending) this.#ready.push(pending);
    this.#pending = undefined;
    if (chunk.hash === null) this.#pending = { offset: chunk.offset, length: chunk.length, hash: null };
    else this.#ready.push(chunk);
  }

  /** The extents that are final so far (removes them). */
  take(): Chunk[] {
    const ready = this.#ready;
    this.#ready = [];
    return ready;
  }

  /** Everything left, the held zero extent included. */
  finish(): Chunk[] {
    if (this.#pending) this.#ready.push(this.#pending);
    this.#pending = undefined;
    return this.take();
  }
}
