// A disk that fills up: pulls into, and pushes to, a small tmpfs. Needs permission to mount one
// (root); elsewhere the tests are skipped with the reason, which the run's summary prints.
import { execFileSync, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Checkpoints } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { seededBytes } from '@ckpt/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** A clean environment for the `ckpt` processes: PATH and the test run's state directory. */
const { PATH, CKPT_STATE_DIR } = process.env;
const childEnv = { PATH, CKPT_STATE_DIR };
const BIN = fileURLToPath(new URL('../packages/cli/bin/ckpt.js', import.meta.url));
let work: string;
let disk: string;
let mounted = false;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-full-'));
  disk = path.join(work, 'disk');
  await mkdir(disk);
  mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=24m', 'tmpfs', disk]).status === 0;
  const src = path.join(work, 'src');
  await mkdir(src);
  await writeFile(
    path.join(src, 'pages-1.img'),
    Buffer.concat([seededBytes(20 << 20, 1), Buffer.alloc(8 << 20)]),
  );
  await writeFile(path.join(src, 'core-1.img'), seededBytes(5000, 2));
  const ckpt = new Checkpoints(new FsStore({ root: path.join(work, 'store') }));
  await ckpt.push('m', src);
  await ckpt.close();
});
afterAll(async () => {
  if (mounted) execFileSync('umount', [disk]);
  await rm(work, { recursive: true, force: true });
});

const run = (args: string[]) =>
  spawnSync(process.execPath, [BIN, ...args, '--store', path.join(work, 'store')], {
    encoding: 'utf8',
    env: childEnv,
  });

describe('a full disk', () => {
  it('a pull that cannot fit fails first: one line naming the place and the space, nothing left', async ({
    skip,
  }) => {
    if (!mounted) skip('cannot mount a tmpfs here (needs root)');
    await writeFile(path.join(disk, 'filler'), Buffer.alloc(10 << 20));
    const pull = run(['pull', 'm', path.join(disk, 'out')]);
    expect(pull.status).toBe(1);
    expect(pull.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /^ckpt: pull \S+disk: not enough space: the pull needs 20\.0 MiB, 1\d\.\d MiB are free$/,
      ),
    ]);
    expect(await readdir(disk)).toEqual(['filler']);
    await rm(path.join(disk, 'filler'));
  });

  it('a disk that fills up during a pull: one line, exit 1, nothing left, the space back', async ({
    skip,
  }) => {
    if (!mounted) skip('cannot mount a tmpfs here (needs root)');
    const ckpt = new Checkpoints(new FsStore({ root: path.join(work, 'store') }));
    let filled = false;
    const err = await ckpt
      .pull('m', path.join(disk, 'out'), {
        onProgress: (e) => {
          if (filled || e.phase !== 'download') return;
          filled = true;
          // someone else takes the space the pull counted on
          writeFileSync(path.join(disk, 'filler'), Buffer.alloc(16 << 20));
        },
      })
      .catch((e) => e);
    await ckpt.close();
    expect(filled).toBe(true);
    expect(err).toMatchObject({ code: 'Unavailable', retryable: false });
    expect(err.message).toMatch(/^pull \S+disk: no space left on the device \(the pull needs 20\.0 MiB\)$/);
    expect(await readdir(disk)).toEqual(['filler']);
    await rm(path.join(disk, 'filler'));
  });

  it('a push into a full store: one line, exit 1, nothing half-written is visible', async ({ skip }) => {
    if (!mounted) skip('cannot mount a tmpfs here (needs root)');
    const src = path.join(work, 'src');
    await writeFile(path.join(disk, 'filler'), Buffer.alloc(10 << 20));
    const push = spawnSync(
      process.execPath,
      [BIN, 'push', src, '-m', 'm', '--store', path.join(disk, 'store')],
      {
        encoding: 'utf8',
        env: childEnv,
      },
    );
    expect(push.status).toBe(1);
    expect(push.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ckpt: .*(no space|ENOSPC)/)]);
    const ckpt = new Checkpoints(new FsStore({ root: path.join(disk, 'store') }));
    expect(await ckpt.exists('m')).toBe(false);
    await ckpt.close();
    await rm(path.join(disk, 'filler'));
  });
});
