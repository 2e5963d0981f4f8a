import { open } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { syncFolder } from '../src/folders.js';
import { tempRoot } from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

async function spyOnSync() {
  const handle = await open(await tempRoot(), 'r');
  const proto = Object.getPrototypeOf(handle) as { sync(): Promise<void> };
  await handle.close();
  return vi.spyOn(proto, 'sync');
}

describe('syncFolder', () => {
  it('lets concurrent callers share folder fsyncs, each waiting for one that started after it asked', async () => {
    const dir = await tempRoot();
    const sync = await spyOnSync();
    await Promise.all(Array.from({ length: 8 }, () => syncFolder(dir)));
    expect(sync).toHaveBeenCalledTimes(2); // the first caller's, then one for the seven who came during it
    await syncFolder(dir);
    expect(sync).toHaveBeenCalledTimes(3); // nothing running: a fresh fsync
  });

  it('hands a failure to every caller that shared the fsync', async () => {
    const missing = path.join(await tempRoot(), 'gone');
    const results = await Promise.allSettled([syncFolder(missing), syncFolder(missing), syncFolder(missing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });
});
