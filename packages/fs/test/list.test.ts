import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { ObjectStore } from '@ckpt/core';
import { compareKeys } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { tempRoot } from './helpers.js';

async function keysOf(store: ObjectStore, prefix?: string, startAfter?: string): Promise<string[]> {
  const keys: string[] = [];
  for await (const meta of store.list(prefix, startAfter === undefined ? {} : { startAfter }))
    keys.push(meta.key);
  return keys;
}

// `/` (0x2f) sorts after `-` and `.`, before digits and letters; non-ASCII after ASCII
const KEYS = ['a', 'a-b', 'a.b', 'b/x-y/z', 'b/x.y', 'b/x/1', 'b/x0', 'bb', 'é/1', 'z/y/x/w', 'Z', '~'];

describe('FsStore list', () => {
  it('lists keys across nested folders in UTF-8 byte order', async () => {
    const store = new FsStore({ root: await tempRoot() });
    for (const key of [...KEYS].reverse()) await store.put(key, Buffer.from(key));
    const sorted = [...KEYS].sort(compareKeys);
    expect(await keysOf(store)).toEqual(sorted);
  });

  it('honours prefixes that end mid-segment or at a folder, and startAfter anywhere', async () => {
    const store = new FsStore({ root: await tempRoot() });
    for (const key of KEYS) await store.put(key, Buffer.from(key));
    const all = [...KEYS].sort(compareKeys);
    const expectPrefix = (p: string, after?: string) =>
      all.filter((k) => k.startsWith(p) && (after === undefined || compareKeys(k, after) > 0));
    for (const prefix of ['', 'a', 'a.', 'b/', 'b/x', 'b/x/', 'b/x-', 'z/y/', 'é', 'nothing/', 'q']) {
      expect(await keysOf(store, prefix), `prefix ${prefix}`).toEqual(expectPrefix(prefix));
    }
    for (const after of ['', 'a', 'a-', 'b/x', 'b/x/', 'b/x/1', 'b/x-y/z', 'b/x.', 'bb', 'z', '\u{10ffff}']) {
      expect(await keysOf(store, '', after), `startAfter ${after}`).toEqual(expectPrefix('', after));
      expect(await keysOf(store, 'b/', after), `b/ startAfter ${after}`).toEqual(expectPrefix('b/', after));
    }
  });

  it('returns size and version of each object', async () => {
    const store = new FsStore({ root: await tempRoot() });
    const put = await store.put('d/k', Buffer.from('12345'));
    const listed = [];
    for await (const meta of store.list('d/')) listed.push(meta);
    expect(listed).toEqual([
      { key: 'd/k', size: 5, version: put.version, lastModified: listed[0]?.lastModified },
    ]);
  });

  it('skips the internal folder, symlinks, special names and empty folders', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await store.put('real', Buffer.from('x'));
    await mkdir(path.join(root, 'empty', 'deeper'), { recursive: true });
    await writeFile(path.join(root, 'ends-with-dot.'), 'unaddressable');
    await writeFile(path.join(root, 'back\\slash'), 'unaddressable');
    await symlink(path.join(root, 'real'), path.join(root, 'link'));
    await symlink(root, path.join(root, 'loop'));
    await writeFile(path.join(root, '.ckpt-fs', 'tmp', 'leftover.tmp'), 'temp');
    expect(await keysOf(store)).toEqual(['real']);
    expect(await keysOf(store, '.ckpt-fs/')).toEqual([]);
    expect(await keysOf(store, '.ckpt')).toEqual([]);
  });

  it('is lazy: stopping early works and a large folder tree streams', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    for (let d = 0; d < 20; d++) {
      await mkdir(path.join(root, `d${String(d).padStart(2, '0')}`));
      for (let f = 0; f < 50; f++)
        await writeFile(path.join(root, `d${String(d).padStart(2, '0')}`, `f${f}`), '');
    }
    let count = 0;
    for await (const meta of store.list()) {
      expect(meta.key.startsWith('d00/')).toBe(true);
      if (++count === 3) break;
    }
    expect((await keysOf(store)).length).toBe(1000);
  });
});
