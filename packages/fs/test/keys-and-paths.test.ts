import { mkdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readAll } from '@ckpt/core/backend';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { expectCode, tempRoot } from './helpers.js';

describe('FsStore keys and paths', () => {
  it('names itself file://<absolute root> and declares its capabilities', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    expect(store.name).toBe(`file://${root}`);
    expect(store.capabilities).toMatchObject({
      conditionalCreate: true,
      conditionalReplace: true,
      rangedRead: true,
      metadata: false,
      keyIsAlsoPrefix: false,
      maxObjectSize: Number.MAX_SAFE_INTEGER,
      preferredConcurrency: 8,
    });
    expect(() => new FsStore({ root: '' })).toThrow(/root must be a non-empty path/);
  });

  it('refuses keys that could leave the root or reach the internal folder', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root: path.join(root, 'store') });
    for (const key of [
      '../escape',
      'a/../../escape',
      '/etc/passwd',
      'a/./b',
      'a\\..\\b',
      '.ckpt-fs/tmp/x',
      '.ckpt-fs',
    ]) {
      await expectCode(store.put(key, Buffer.from('x')), 'InvalidArgument');
      await expectCode(store.get(key), 'InvalidArgument');
      await expectCode(store.head(key), 'InvalidArgument');
      await expectCode(store.delete(key), 'InvalidArgument');
    }
    await expect(stat(path.join(root, 'escape'))).rejects.toThrow();
  });

  it('never writes, reads or deletes through a symlinked folder inside the root', async () => {
    const root = await tempRoot();
    const outside = await tempRoot();
    await writeFile(path.join(outside, 'secret'), 'outside');
    const store = new FsStore({ root });
    await store.put('real/file', Buffer.from('inside'));
    await symlink(outside, path.join(root, 'link'));
    await symlink(outside, path.join(root, 'real', 'nested'));

    await expectCode(store.put('link/secret', Buffer.from('overwritten')), 'InvalidArgument');
    await expectCode(store.put('real/nested/new', Buffer.from('x')), 'InvalidArgument');
    await expectCode(store.get('link/secret'), 'NotFound');
    await expectCode(store.head('real/nested/secret'), 'NotFound');
    await store.delete('link/secret');
    expect(await readFile(path.join(outside, 'secret'), 'utf8')).toBe('outside');

    const keys: string[] = [];
    for await (const meta of store.list()) keys.push(meta.key);
    expect(keys).toEqual(['real/file']);
    await expect(stat(path.join(outside, 'new'))).rejects.toThrow();
  });

  it('treats a symlink at the key itself as no object and never replaces or follows it', async () => {
    const root = await tempRoot();
    const outside = await tempRoot();
    await writeFile(path.join(outside, 'target'), 'outside');
    const store = new FsStore({ root });
    await symlink(path.join(outside, 'target'), path.join(root, 'key'));
    await expectCode(store.get('key'), 'NotFound');
    await expectCode(store.head('key'), 'NotFound');
    await expectCode(store.put('key', Buffer.from('x')), 'InvalidArgument');
    await store.delete('key');
    expect(await readFile(path.join(root, 'key'), 'utf8')).toBe('outside');
  });

  it('a key cannot also be a folder: both directions fail InvalidArgument and change nothing', async () => {
    const store = new FsStore({ root: await tempRoot() });
    await store.put('a', Buffer.from('object a'));
    await expectCode(store.put('a/b', Buffer.from('x')), 'InvalidArgument');
    await store.put('c/d', Buffer.from('object c/d'));
    await expectCode(store.put('c', Buffer.from('x')), 'InvalidArgument');
    await expectCode(store.put('c', Buffer.from('x'), { mode: 'create' }), 'InvalidArgument');
    await expectCode(store.get('c'), 'NotFound');
    await expectCode(store.get('a/b'), 'NotFound');
    await store.delete('c'); // a folder is no object: nothing happens
    expect((await readAll((await store.get('c/d')).body)).toString()).toBe('object c/d');
    expect((await readAll((await store.get('a')).body)).toString()).toBe('object a');
  });

  it('an empty folder left where a key goes (a crash between mkdir and rename) does not block it', async () => {
    const root = await tempRoot();
    await mkdir(path.join(root, 'k', 'empty'), { recursive: true });
    const store = new FsStore({ root });
    await store.put('k', Buffer.from('fine'));
    expect(await readFile(path.join(root, 'k'), 'utf8')).toBe('fine');
  });

  it('delete removes the folders it emptied, up to (not including) the root', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root: path.join(root, 'store') });
    await store.put('m/images/a', Buffer.from('1'));
    await store.put('m/images/deep/b', Buffer.from('2'));
    await store.put('m/other', Buffer.from('3'));
    await store.delete('m/images/deep/b');
    await expect(stat(path.join(root, 'store', 'm', 'images', 'deep'))).rejects.toThrow();
    expect((await stat(path.join(root, 'store', 'm', 'images'))).isDirectory()).toBe(true);
    await store.delete('m/images/a');
    await store.delete('m/other');
    await store.delete('m/other'); // idempotent
    await expect(stat(path.join(root, 'store', 'm'))).rejects.toThrow();
    expect((await stat(path.join(root, 'store'))).isDirectory()).toBe(true);
  });

  it('reads of a missing root fail naming the store (it is no empty store), create nothing; a delete is a no-op', async () => {
    const root = path.join(await tempRoot(), 'absent');
    const store = new FsStore({ root });
    const missing = new RegExp(
      `the store file://${root} does not exist \\(no such folder; a push creates it\\)$`,
    );
    await expect(store.get('a')).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(missing),
    });
    await expect(store.head('a/b')).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(missing),
    });
    const listing = (async () => {
      for await (const _ of store.list('ckpt/')) return;
    })();
    await expect(listing).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringMatching(missing),
    });
    await store.delete('a/b');
    await expect(stat(root)).rejects.toThrow();
  });

  it('ensureExists creates the root, after which a missing key is NotFound and the listing empty', async () => {
    const root = path.join(await tempRoot(), 'fresh', 'store');
    const store = new FsStore({ root });
    await store.ensureExists();
    expect((await stat(root)).isDirectory()).toBe(true);
    await expectCode(store.get('a'), 'NotFound');
    await expectCode(store.head('a'), 'NotFound');
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual([]);
  });

  it('a root that is a file is refused for reads; a symlinked root is followed', async () => {
    const dir = await tempRoot();
    await writeFile(path.join(dir, 'file'), 'x');
    const onFile = new FsStore({ root: path.join(dir, 'file') });
    await expect(onFile.get('a')).rejects.toMatchObject({
      code: 'InvalidArgument',
      message: expect.stringContaining('its root is not a folder'),
    });
    await mkdir(path.join(dir, 'real'));
    await symlink(path.join(dir, 'real'), path.join(dir, 'link'));
    const linked = new FsStore({ root: path.join(dir, 'link') });
    await expectCode(linked.get('a'), 'NotFound');
    await linked.put('a', Buffer.from('x'));
    expect(await readFile(path.join(dir, 'real', 'a'), 'utf8')).toBe('x');
  });
});
