import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { type FileHandle, mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { WRITE_PIECE, writeAll, writeAllSync } from '../src/write-all.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'ckpt-write-all-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/**
 * `handle` with every write's length and position recorded, and writes counted while they run
 * (each waits 2 ms first, so that writes issued together overlap). Writes are cut to `short`
 * bytes; the one at position `failAt` fails.
 */
function recording(handle: FileHandle, { short = Number.POSITIVE_INFINITY, failAt = -1 } = {}) {
  const calls: { length: number; position: number | null }[] = [];
  const state = { running: 0, most: 0 };
  const write = async (bytes: Uint8Array, offset: number, length: number, position: number | null) => {
    calls.push({ length, position });
    state.most = Math.max(state.most, ++state.running);
    try {
      await new Promise((resolve) => setTimeout(resolve, 2));
      if (position === failAt) throw Object.assign(new Error('no space left'), { code: 'ENOSPC' });
      return await handle.write(bytes, offset, Math.min(length, short), position);
    } finally {
      state.running--;
    }
  };
  const watched = new Proxy(handle, { get: (h, p) => (p === 'write' ? write : Reflect.get(h, p)) });
  return { calls, state, handle: watched };
}

it('writes every byte at the position, no write longer than WRITE_PIECE', async () => {
  const file = path.join(dir, 'f');
  const bytes = randomBytes(2 * WRITE_PIECE + 1000);
  const handle = await open(file, 'w');
  const { calls, handle: watched } = recording(handle);
  await writeAll(watched, bytes, 5);
  await handle.close();
  expect(calls.map((c) => c.length)).toEqual([WRITE_PIECE, WRITE_PIECE, 1000]);
  expect(calls.map((c) => c.position)).toEqual([5, 5 + WRITE_PIECE, 5 + 2 * WRITE_PIECE]);
  const written = readFileSync(file);
  expect(written.subarray(0, 5)).toEqual(Buffer.alloc(5));
  expect(written.subarray(5).equals(bytes)).toBe(true);
});

it('goes on after a short write, and appends at the file position without one', async () => {
  const file = path.join(dir, 'f');
  const bytes = randomBytes(10_000);
  const handle = await open(file, 'w');
  const { calls, handle: watched } = recording(handle, { short: 4096 });
  await writeAll(watched, Buffer.from('head'));
  await writeAll(watched, bytes);
  await handle.close();
  expect(calls.every((c) => c.position === null)).toBe(true);
  expect(calls.map((c) => c.length)).toEqual([4, 10_000, 10_000 - 4096, 10_000 - 8192]);
  expect(readFileSync(file)).toEqual(Buffer.concat([Buffer.from('head'), bytes]));
});

it('writeAllSync writes a range of the bytes at the position', () => {
  const file = path.join(dir, 'f');
  const bytes = randomBytes(3 * WRITE_PIECE);
  const fd = openSync(file, 'w');
  try {
    writeAllSync(fd, bytes, 100, 2 * WRITE_PIECE + 7, 3);
  } finally {
    closeSync(fd);
  }
  const written = readFileSync(file);
  expect(written.length).toBe(3 + 2 * WRITE_PIECE + 7);
  expect(written.subarray(3).equals(bytes.subarray(100, 100 + 2 * WRITE_PIECE + 7))).toBe(true);
});

it('writes up to `lanes` pieces at once at their positions', async () => {
  const file = path.join(dir, 'f');
  const bytes = randomBytes(9 * WRITE_PIECE + 3);
  const handle = await open(file, 'w');
  const { calls, state, handle: watched } = recording(handle);
  await writeAll(watched, bytes, 0, 4);
  await handle.close();
  expect(state).toMatchObject({ running: 0, most: 4 });
  expect(calls).toHaveLength(10);
  expect(readFileSync(file).equals(bytes)).toBe(true);
});

it('throws the first failure of any lane once no write is running, and starts no new piece', async () => {
  const handle = await open(path.join(dir, 'f'), 'w');
  const { calls, state, handle: watched } = recording(handle, { failAt: 2 * WRITE_PIECE });
  const written = writeAll(watched, randomBytes(40 * WRITE_PIECE), 0, 4);
  await expect(written).rejects.toThrow('no space left');
  expect(state.running).toBe(0);
  expect(calls.length).toBeLessThan(10);
  await handle.close();
});
