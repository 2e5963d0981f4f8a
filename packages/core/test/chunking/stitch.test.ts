import { describe, expect, it } from 'vitest';
import { findJoin, ZeroRunJoiner } from '../../src/sync/chunking/stitch.js';
import type { Chunk } from '../../src/sync/chunking/types.js';

const data = (offset: number, length: number): Chunk => ({ offset, length, hash: `h${offset}` });
const zero = (offset: number, length: number): Chunk => ({ offset, length, hash: null });

describe('findJoin', () => {
  const next = [data(100, 30), data(130, 40), data(170, 50), data(220, 10)];

  it('joins at the first boundary both lists share', () => {
    // true list known to 90, then 90–125, 125–170, 170–230: shared boundary 170
    expect(findJoin(90, [data(90, 35), data(125, 45), data(170, 60)], next)).toEqual({ keep: 2, resume: 2 });
  });

  it('joins at `from` when the true list ends exactly at the segment start', () => {
    expect(findJoin(100, [], next)).toEqual({ keep: 0, resume: 0 });
  });

  it('reports no join when no boundary is shared', () => {
    expect(findJoin(90, [data(90, 35), data(125, 40)], next)).toBeUndefined();
  });
});

describe('ZeroRunJoiner', () => {
  it('merges zero extents cut at segment edges and holds the last one back', () => {
    const joiner = new ZeroRunJoiner();
    joiner.push(data(0, 10));
    joiner.push(zero(10, 90));
    expect(joiner.take()).toEqual([data(0, 10)]);
    joiner.push(zero(100, 100));
    expect(joiner.take()).toEqual([]);
    joiner.push(data(200, 5));
    joiner.push(zero(205, 50));
    expect(joiner.take()).toEqual([zero(10, 190), data(200, 5)]);
    expect(joiner.finish()).toEqual([zero(205, 50)]);
  });
});
