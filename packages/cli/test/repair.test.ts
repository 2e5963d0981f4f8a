// A checkpoint whose stored bytes rotted: what verify says, and the repair push it names.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint, readTree, seededBytes } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { ckpt, filesBySize, lines, tempDir } from './helpers.js';

/** A checkpoint `llama` pushed as model `bitrot` to a fresh store, then a byte flipped in its largest pack. */
async function rottenCheckpoint() {
  const cwd = await tempDir();
  const source = await makeCheckpoint(path.join(cwd, 'llama'));
  const store = await tempDir();
  const push = await ckpt(['push', 'llama', '-m', 'bitrot', '--store', store, '--json'], { cwd });
  expect(push.code).toBe(0);
  const [largest] = await filesBySize(store, '.pack');
  const bytes = await readFile(largest!);
  bytes[bytes.length >> 1]! ^= 0xff;
  await writeFile(largest!, bytes);
  return { cwd, source, store, generation: JSON.parse(push.stdout).generation as string };
}

describe('repairing a damaged checkpoint', () => {
  it('verify names the repair push; that command commits a generation that verifies and pulls exactly', async () => {
    const { cwd, source, store, generation } = await rottenCheckpoint();
    const verify = await ckpt(['verify', 'bitrot', '--store', store], { cwd });
    expect(verify.code).toBe(4);
    const command = `ckpt push --repair <dir> --model bitrot --store ${store}`;
    expect(lines(verify.stdout).at(-1)).toBe(
      `to repair: run '${command}' with a directory that holds this checkpoint (it commits a new generation that verifies), or pull an older generation that verifies`,
    );

    const args = command.replace('<dir>', 'llama').split(' ').slice(1);
    const repair = await ckpt(args, { cwd });
    expect(repair).toMatchObject({ code: 0, stderr: '' });
    expect(lines(repair.stdout)).toHaveLength(1);
    expect(repair.stdout.trim()).toMatch(
      new RegExp(
        `^pushed bitrot generation \\S+ \\(unchanged since the previous generation\\): .*; 1 chunk of generation ${generation} lost or damaged in the store, not reused$`,
      ),
    );
    expect((await ckpt(['verify', 'bitrot', '--store', store], { cwd })).code).toBe(0);
    const pull = await ckpt(['pull', 'bitrot', 'restored', '--store', store], { cwd });
    expect(pull.code).toBe(0);
    expect(await readTree(path.join(cwd, 'restored'))).toEqual(await readTree(source));
  });

  it('a damaged chunk the directory no longer holds: the repair push warns which files stay broken, and its generation verifies', async () => {
    const { cwd, source, store, generation } = await rottenCheckpoint();
    await writeFile(path.join(source, 'pages-1.img'), seededBytes(3 << 20, 77));
    const repair = await ckpt(['push', '--repair', 'llama', '-m', 'bitrot', '--store', store, '--json'], {
      cwd,
    });
    expect(repair.code).toBe(0);
    const pushed = JSON.parse(repair.stdout);
    expect(pushed).toMatchObject({
      created: true,
      parent: generation,
      damagedChunks: 1,
      unrepairedFiles: ['pages-1.img'],
    });
    expect(lines(repair.stderr)).toEqual([
      `ckpt: warning: generation ${generation} stays broken: this directory no longer holds the damaged data of pages-1.img; generation ${pushed.generation} does not need it`,
    ]);
    expect((await ckpt(['verify', 'bitrot', '--store', store], { cwd })).code).toBe(0);
    const pull = await ckpt(['pull', 'bitrot', 'restored', '--store', store], { cwd });
    expect(pull.code).toBe(0);
    expect(await readTree(path.join(cwd, 'restored'))).toEqual(await readTree(source));
  });
});
