import { symlink, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCheckpoint, readTree, seededBytes, treeDigest, useTempDir } from '../src/index.js';

const tempDir = useTempDir('ckpt-test-utils-');

describe('seededBytes', () => {
  it('is xorshift32 from the seed: the same bytes for the same seed, a prefix of a longer run', () => {
    expect(seededBytes(8, 1).toString('hex')).toBe('2120040001060804');
    expect(seededBytes(10, 1).subarray(0, 8)).toEqual(seededBytes(8, 1));
    expect(seededBytes(7, 2)).toHaveLength(7);
    expect(seededBytes(64, 2)).not.toEqual(seededBytes(64, 3));
    expect(seededBytes(16, 0)).toEqual(seededBytes(16, 1));
  });
});

describe('makeCheckpoint and readTree', () => {
  it('make the same tree for the same seed, and read files, folders and links', async () => {
    const a = await makeCheckpoint(path.join(await tempDir(), 'a'));
    const b = await makeCheckpoint(path.join(await tempDir(), 'b'));
    const tree = await readTree(a);
    expect(await readTree(b)).toEqual(tree);
    const entries = Object.values(tree);
    expect(entries.filter((e) => e.type === 'file')).toHaveLength(27);
    expect(tree['rootfs/readme-link']).toEqual({ type: 'symlink', target: 'cache/README' });
    expect(tree.cuda_pids).toMatchObject({ type: 'file', mode: 0o640, size: 5 });
    expect(tree['rootfs/cache']).toMatchObject({ type: 'dir' });

    const c = await makeCheckpoint(path.join(await tempDir(), 'c'), { seed: 2 });
    expect((await readTree(c))['pages-1.img']).not.toEqual(tree['pages-1.img']);
    await writeFile(path.join(c, 'extra'), 'x');
    await symlink('extra', path.join(c, 'link'));
    expect(Object.keys(await readTree(c))).toEqual(expect.arrayContaining(['extra', 'link']));
  });

  it("with times, read files' and folders' modification times as well", async () => {
    const a = await makeCheckpoint(path.join(await tempDir(), 'a'));
    await utimes(path.join(a, 'inventory.img'), 1_700_000_000, 1_700_000_000);
    await utimes(path.join(a, 'rootfs'), 1_600_000_000, 1_600_000_000);
    const tree = await readTree(a, { times: true });
    expect(tree['inventory.img']).toMatchObject({ type: 'file', mtimeMs: 1_700_000_000_000 });
    expect(tree.rootfs).toMatchObject({ type: 'dir', mtimeMs: 1_600_000_000_000 });
    expect(tree['rootfs/readme-link']).toEqual({ type: 'symlink', target: 'cache/README' });
    expect(await treeDigest(a, { times: true })).not.toBe(await treeDigest(a));
  });
});
