import { mkdtemp, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { fileTime } from '../../src/sync/file-time.js';

it('a time set through fileTime reads back to the microsecond a push records', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'ckpt-file-time-'));
  try {
    const file = path.join(dir, 'f');
    await writeFile(file, '');
    const wrong: number[] = [];
    for (let i = 0; i < 500; i++) {
      // microseconds of a date in 2026, with every last digit
      const us = 1_796_628_047_000_000 + i * 1_000_003 + (i % 1000);
      const t = fileTime(us / 1000);
      await utimes(file, t, t);
      if ((await stat(file, { bigint: true })).mtimeNs / 1000n !== BigInt(us)) wrong.push(us);
    }
    expect(wrong).toEqual([]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
