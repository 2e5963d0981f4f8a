import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ChunkTable } from '../../src/sync/chunk-table.js';

const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');

describe('ChunkTable', () => {
  it('appends rows, finds each by hash, and survives its serialised form', () => {
    const rows = ChunkTable.empty();
    const n = 5000;
    for (let i = 0; i < n; i++) {
      expect(rows.indexOf(sha(i))).toBeUndefined();
      expect(rows.push(sha(i), i % 7, i * 1000, 1 + (i % 300_000))).toBe(i);
    }
    expect(rows.count).toBe(n);
    for (let i = 0; i < n; i += 97) {
      expect(rows.indexOf(sha(i))).toBe(i);
      expect([rows.hashOf(i), rows.packOf(i), rows.offsetOf(i), rows.lengthOf(i)]).toEqual([
        sha(i),
        i % 7,
        i * 1000,
        1 + (i % 300_000),
      ]);
    }
    expect(rows.indexOf(sha(n))).toBeUndefined();
    expect(rows.indexOf('zz')).toBeUndefined();
    expect(rows.indexOf(`${sha(7)}00`)).toBeUndefined();
    const again = ChunkTable.fromBase64(JSON.parse(JSON.stringify(rows)))!;
    expect(again.count).toBe(n);
    expect(again.indexOf(sha(4321))).toBe(4321);
    expect(again.totalLength()).toBe(rows.totalLength());
    expect(again.lengthOf(n - 1)).toBe(rows.lengthOf(n - 1));
  });

  it('reads the tuples of format 1', () => {
    const rows = ChunkTable.fromTuples([
      [0, 0, 10, sha(1)],
      [1, 10, 20, sha(2)],
    ]);
    expect(rows.count).toBe(2);
    expect(rows.indexOf(sha(2))).toBe(1);
    expect(rows.offsetOf(1)).toBe(10);
    expect(ChunkTable.fromTuples([]).count).toBe(0);
  });

  it('refuses what it cannot hold or parse', () => {
    const rows = ChunkTable.empty();
    expect(() => rows.push(sha(1), 0, 2 ** 32, 1)).toThrow(/offset/);
    expect(() => rows.push(sha(1), -1, 0, 1)).toThrow(/pack/);
    expect(() => rows.push('not hex', 0, 0, 1)).toThrow(/SHA-256/);
    expect(rows.count).toBe(0);
    expect(() => rows.hashOf(0)).toThrow(RangeError);
    expect(ChunkTable.fromBase64(Buffer.alloc(43).toString('base64'))).toBeUndefined();
    expect(ChunkTable.fromBase64('!!!!')).toBeUndefined();
    expect(ChunkTable.fromBase64('')?.count).toBe(0);
  });
});
