// `ckpt ls <model> --files [--generation G]`: a generation's tree, and `--generation` alone.
import path from 'node:path';
import { makeCheckpoint, readTree } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

describe('ls --files', () => {
  it("lists a generation's files, folders and links (latest, or the one named), as a table or JSON", async () => {
    const cwd = await tempDir();
    const source = await makeCheckpoint(path.join(cwd, 'src'));
    const first = JSON.parse((await ckpt(['push', 'src', '-m', 'm', '--json'], { cwd })).stdout);
    await makeCheckpoint(path.join(cwd, 'src2'), { seed: 2 });
    expect((await ckpt(['push', 'src2', '-m', 'm'], { cwd })).code).toBe(0);

    const listed = await ckpt(['ls', 'm', '--files', '--generation', first.generation, '--json'], { cwd });
    expect(listed.code).toBe(0);
    const { generation, files } = JSON.parse(listed.stdout);
    expect(generation).toBe(first.generation);
    const tree = await readTree(source);
    expect(Object.fromEntries(files.map((f: { path: string }) => [f.path, f]))).toEqual(
      Object.fromEntries(
        Object.entries(tree).map(([p, entry]) => [
          p,
          entry.type === 'file'
            ? { path: p, type: 'file', mode: entry.mode, size: entry.size, mtime: expect.any(String) }
            : entry.type === 'dir'
              ? { path: p, type: 'dir', mode: entry.mode, mtime: expect.any(String) }
              : { path: p, type: 'symlink', target: entry.target },
        ]),
      ),
    );

    const table = lines((await ckpt(['ls', 'm', '--files'], { cwd })).stdout);
    expect(table[0]).toMatch(/^MODE +SIZE +MODIFIED +PATH$/);
    expect(table).toContainEqual(expect.stringMatching(/^-rw-r----- +5 B +\S+ +cuda_pids$/));
    expect(table).toContainEqual(expect.stringMatching(/^drwx.* rootfs$/));
    expect(table).toContainEqual(expect.stringMatching(/^lrwxrwxrwx +rootfs\/readme-link -> cache\/README$/));
  });

  it('--generation alone shows that generation; an unknown one or --files without a model fails', async () => {
    const cwd = await tempDir();
    await makeCheckpoint(path.join(cwd, 'src'));
    const pushed = JSON.parse((await ckpt(['push', 'src', '-m', 'm', '--json'], { cwd })).stdout);
    const one = await ckpt(['ls', 'm', '-g', pushed.generation, '--json'], { cwd });
    expect(JSON.parse(one.stdout).generations.map((g: { generation: string }) => g.generation)).toEqual([
      pushed.generation,
    ]);
    const unknown = await ckpt(['ls', 'm', '-g', '20200101T000000000Z-00000000'], { cwd });
    expect(unknown.code).toBe(3);
    expect(lines(unknown.stderr)).toEqual([
      expect.stringMatching(/^ckpt: ls m: no generation 20200101T000000000Z-00000000/),
    ]);
    const noModel = await ckpt(['ls', '--files'], { cwd });
    expect(noModel.code).toBe(2);
  });
});
