// Options from CKPT_* variables, and the user's config file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { makeCheckpoint } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

describe('options from the environment', () => {
  it('CKPT_MODEL stands for a required option, CKPT_JSON for a flag; the command line wins', async () => {
    const cwd = await tempDir();
    await makeCheckpoint(path.join(cwd, 'src'));
    const pushed = await ckpt(['push', 'src'], { cwd, env: { CKPT_MODEL: 'from-env', CKPT_JSON: 'yes' } });
    expect(pushed).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(pushed.stdout)).toMatchObject({ model: 'from-env' });

    const flagWins = await ckpt(['push', 'src', '-m', 'from-flag'], {
      cwd,
      env: { CKPT_MODEL: 'from-env', CKPT_JSON: '0' },
    });
    expect(flagWins.code).toBe(0);
    expect(flagWins.stdout).toMatch(/^from-flag is unchanged|^pushed from-flag/);

    const list = await ckpt(['ls', '--store', '.ckpt-store'], {
      cwd,
      env: { CKPT_DEDUP_WITH: 'ignored', CKPT_QUIET: 'off' },
    });
    expect(lines(list.stdout).join('\n')).toMatch(/from-env[\s\S]*from-flag/);
  });

  it('a flag variable that is neither yes nor no is a usage error naming it (exit 2)', async () => {
    const cwd = await tempDir();
    const run = await ckpt(['ls'], { cwd, env: { CKPT_VERBOSE: 'maybe' } });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^ckpt: CKPT_VERBOSE=maybe is not a yes or no \(use 1 or 0\)/);
  });

  it('no variable gives --force or --all', async () => {
    const cwd = await tempDir();
    await makeCheckpoint(path.join(cwd, 'src'));
    expect((await ckpt(['push', 'src', '-m', 'kept'], { cwd })).code).toBe(0);
    const removed = await ckpt(['delete', 'kept'], { cwd, env: { CKPT_ALL: '1', CKPT_FORCE: '1' } });
    expect(removed.code).toBe(2);
    expect((await ckpt(['exists', 'kept'], { cwd })).code).toBe(0);
    await mkdir(path.join(cwd, 'mine'));
    await writeFile(path.join(cwd, 'mine', 'notes.txt'), 'mine');
    const pull = await ckpt(['pull', 'kept', 'mine'], { cwd, env: { CKPT_FORCE: 'true' } });
    expect(pull.code).toBe(2);
    expect(pull.stderr).toMatch(/--force/);
  });

  it("the user's config file ($XDG_CONFIG_HOME/ckpt/config.json) names the store when nothing else does", async () => {
    const cwd = await tempDir();
    const home = await tempDir();
    await mkdir(path.join(home, 'ckpt'));
    await writeFile(
      path.join(home, 'ckpt', 'config.json'),
      JSON.stringify({ store: path.join(home, 'store') }),
    );
    await makeCheckpoint(path.join(cwd, 'src'));
    const env = { XDG_CONFIG_HOME: home };
    const pushed = await ckpt(['push', 'src', '-m', 'm', '--verbose'], { cwd, env });
    expect(pushed.code).toBe(0);
    expect(pushed.stderr).toContain(`(from ${path.join(home, 'ckpt', 'config.json')})`);
    expect((await ckpt(['exists', 'm', '--store', path.join(home, 'store')], { cwd })).code).toBe(0);

    // a config file in the working directory comes first, CKPT_CONFIG before both
    await writeFile(path.join(cwd, 'ckpt.config.json'), JSON.stringify({ store: './here' }));
    await writeFile(path.join(cwd, 'other.json'), JSON.stringify({ store: './there' }));
    expect((await ckpt(['exists', 'm', '--verbose'], { cwd, env })).stderr).toContain('here');
    const fromEnv = await ckpt(['exists', 'm', '--verbose'], {
      cwd,
      env: { ...env, CKPT_CONFIG: 'other.json' },
    });
    expect(fromEnv.stderr).toContain(`(from ${path.join(cwd, 'other.json')})`);
  });
});
