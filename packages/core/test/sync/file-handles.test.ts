import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  const before = await openFds();
  const handles = new FileHandles();
  await handles.write(good, Buffer.from('ok'), 1);
  await expect(handles.write(path.join(work, 'missing'), Buffer.from('x'), 0)).rejects.toMatchObject({
    code: 'ENOENT',
  });
  await handles.closeAll();
  expect(await openFds()).toBe(before);
  expect((await readFile(good)).toString('latin1')).toBe('\0ok\0');
});

it('create makes a file of holes at its size and keeps it open for the writes that follow', async () => {
  const file = path.join(work, 'new');
  const before = await openFds();
  const handles = new FileHandles();
  await handles.create(file, 4096);
  expect(await openFds()).toBe(before + 1);
  await handles.write(file, Buffer.from('end'), 4093);
  expect(await openFds()).toBe(before + 1); // the write used the handle create opened
  await expect(handles.create(file, 1)).rejects.toMatchObject({ code: 'EEXIST' });
  await handles.closeAll();
  expect(await openFds()).toBe(before);
  const bytes = await readFile(file);
  expect(bytes.length).toBe(4096);
  expect(bytes.subarray(4093).toString()).toBe('end');
  expect(bytes.subarray(0, 4093).every((b) => b === 0)).toBe(true);
});
