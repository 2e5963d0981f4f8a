import { readlinkSync } from 'node:fs';
import { mkdir, open, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ensureParents, parentSyncs, parentsAreFolders, syncFolder } from '../src/folders.js';
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

describe('ensureParents', () => {
  it('makes the missing folders, fsyncing each into its parent while every put below can wait for it', async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, 'a'));
    const synced: string[] = [];
    const sync = await spyOnSync();
    sync.mockImplementation(async function (this: { fd: number }) {
      synced.push(readlinkSync(`/proc/self/fd/${this.fd}`));
      await new Promise((resolve) => setTimeout(resolve, 20));
    });
    await ensureParents(root, ['a', 'b', 'c', 'key'], 'a/b/c/key', 'put');
    expect(await parentsAreFolders(root, ['a', 'b', 'c', 'key'])).toBe(true);
    const running = parentSyncs(root, ['a', 'b', 'c', 'other']); // another put into the same folder
    expect(running).toHaveLength(2);
    await Promise.all(running);
    expect(synced.sort()).toEqual([path.join(root, 'a'), path.join(root, 'a', 'b')]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(parentSyncs(root, ['a', 'b', 'c', 'other'])).toEqual([]);
    await ensureParents(root, ['a', 'b', 'c', 'other'], 'a/b/c/other', 'put');
    expect(synced).toHaveLength(2); // nothing made, nothing synced
  });

  it('refuses a parent that is a file or a symlink, naming it', async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, 'real'));
    await writeFile(path.join(root, 'file'), 'x');
    await symlink(path.join(root, 'real'), path.join(root, 'link'));
    for (const [segments, what] of [
      [['file', 'b', 'k'], '"file"'],
      [['link', 'b', 'k'], '"link"'],
      [['real', 'link'], undefined],
    ] as const) {
      const made = ensureParents(root, [...segments], segments.join('/'), 'put');
      if (what)
        await expect(made).rejects.toMatchObject({
          code: 'InvalidArgument',
          message: expect.stringContaining(what),
        });
      else await expect(made).resolves.toBeUndefined();
    }
    expect(await parentsAreFolders(root, ['link', 'x'])).toBe(false);
    expect(await parentsAreFolders(root, ['file', 'x', 'y'])).toBe(false);
    expect(await parentsAreFolders(root, ['missing', 'x'])).toBe(false);
  });
});
