import { lstat, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { FileHandles } from '../../src/sync/file-handles.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-handles-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const openFds = async () => (await readdir('/proc/self/fd')).length;

it('writes land at their offsets, and every handle it opened is closed by closeAll', async () => {
  const files = ['a', 'b', 'c'].map((name) => path.join(work, name));
  for (const file of files) await writeFile(file, Buffer.alloc(64));
  const before = await openFds();
  const handles = new FileHandles(2);
  // concurrent first writes to the same file, more files than handles kept open
  await Promise.all(
    files.flatMap((file, f) =>
      Array.from({ length: 8 }, (_, i) => handles.write(file, Buffer.alloc(8, 65 + f * 8 + i), i * 8)),
    ),
  );
  await handles.closeAll();
  expect(await openFds()).toBe(before);
  for (const [f, file] of files.entries()) {
    const expected = Buffer.concat(Array.from({ length: 8 }, (_, i) => Buffer.alloc(8, 65 + f * 8 + i)));
    expect(await readFile(file)).toEqual(expected);
  }
});

it('a file that cannot be opened fails its writes, and closeAll still closes the rest', async () => {
  const good = path.join(work, 'good');
  await writeFile(good, Buffer.alloc(4));
  const target = path.join(work, 'target');
  await writeFile(target, 'keep');
  await symlink(target, path.join(work, 'link'));
  const before = await openFds();
  const handles = new FileHandles();
  await handles.write(good, Buffer.from('ok'), 1);
  await expect(handles.write(path.join(work, 'no-dir', 'f'), Buffer.from('x'), 0)).rejects.toMatchObject({
    code: 'ENOENT',
  });
  // a link where a file of the new tree goes is never followed
  await expect(handles.write(path.join(work, 'link'), Buffer.from('x'), 0)).rejects.toMatchObject({
    code: 'ELOOP',
  });
  await handles.closeAll();
  expect(await openFds()).toBe(before);
  expect((await readFile(good)).toString('latin1')).toBe('\0ok\0');
  expect(await readFile(target, 'utf8')).toBe('keep');
});

it('the first write creates a file; finish sets its length, mode and times on that handle and closes it', async () => {
  const file = path.join(work, 'new');
  const before = await openFds();
  const handles = new FileHandles();
  await handles.write(file, Buffer.from('start'), 0);
  expect(await openFds()).toBe(before + 1);
  expect((await lstat(file)).mode & 0o777).toBe(0o600); // owner-only until finished
  const mtimeMs = Date.UTC(2020, 0, 2);
  const stats = await handles.finish(file, { mode: 0o640, mtimeMs, size: 4096 });
  expect(await openFds()).toBe(before);
  const st = await lstat(file, { bigint: true });
  expect(stats).toMatchObject({
    size: 4096n,
    mode: st.mode,
    mtimeNs: st.mtimeNs,
    ctimeNs: st.ctimeNs,
    ino: st.ino,
  });
  expect(Number(st.mode & 0o777n)).toBe(0o640);
  expect(Number(st.mtimeMs)).toBe(mtimeMs);
  const bytes = await readFile(file);
  expect(bytes.subarray(0, 5).toString()).toBe('start');
  expect(bytes.subarray(5).every((b) => b === 0)).toBe(true);

  // a file nothing was written to (empty, or all holes) is created by finish
  const holes = path.join(work, 'holes');
  expect((await handles.finish(holes, { mode: 0o644, mtimeMs, size: 8192 })).size).toBe(8192n);
  expect((await stat(holes)).blocks).toBe(0);
  await handles.closeAll();
  expect(await openFds()).toBe(before);
});
