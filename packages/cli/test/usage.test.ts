import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { BIN, ckpt, lines, tempDir } from './helpers.js';

const VERSION = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const COMMANDS = ['push', 'pull', 'exists', 'ls', 'verify', 'delete', 'gc'];

let cwd: string;
beforeAll(async () => {
  cwd = await tempDir();
});

/** Asserts a failure reported as exactly one `ckpt: …` line on stderr, nothing on stdout. */
function expectOneLineError(run: { stdout: string; stderr: string }, pattern: RegExp) {
  expect(run.stdout).toBe('');
  expect(lines(run.stderr)).toHaveLength(1);
  expect(run.stderr).toMatch(/^ckpt: /);
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr).not.toMatch(/\n\s+at /);
}

describe('help and version', () => {
  it('--help lists every command, how the store is chosen and the exit codes', async () => {
    const run = await ckpt(['--help'], { cwd });
    expect(run.code).toBe(0);
    for (const command of COMMANDS) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(run.stdout).toContain('CKPT_STORE');
    expect(run.stdout).toContain('./.ckpt-store');
    expect(run.stdout).toMatch(/^ {2}3 +checkpoint not found$/m);
    expect(run.stderr).toBe('');
  });

  it('--version prints the package version', async () => {
    const run = await ckpt(['--version'], { cwd });
    expect(run).toMatchObject({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
  });

  it.each(COMMANDS)('%s --help shows its usage, the global options and examples', async (command) => {
    const run = await ckpt([command, '--help'], { cwd });
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toContain(`Usage: ckpt ${command}`);
    expect(run.stdout).toContain('--store <url>');
    expect(run.stdout).toMatch(new RegExp(`Examples:\\n {2}\\$ ckpt ${command}`));
  });

  it('no command prints the help on stderr and exits 2', async () => {
    const run = await ckpt([], { cwd });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('Usage: ckpt');
  });
});

describe('usage errors exit 2 with one line, before touching any store', () => {
  it.each([
    [['push'], /^ckpt: push: /],
    [['push', 'dir'], /^ckpt: push: required option '-m, --model <name>'/],
    [['push', 'a', 'b', '-m', 'm'], /^ckpt: push: too many arguments/],
    [['pull', 'model'], /^ckpt: pull: missing required argument 'dir'/],
    [['pull'], /^ckpt: pull: missing required argument 'model'/],
    [['exists'], /^ckpt: exists: missing required argument 'model'/],
    [['ls', 'a', 'b'], /^ckpt: ls: too many arguments/],
    [['ls', '--nope'], /^ckpt: ls: unknown option '--nope'/],
    [['verify'], /^ckpt: verify: missing required argument 'model'/],
    [['verify', 'm', '--generation'], /^ckpt: verify: option '-g, --generation <id>' argument missing/],
    [['delete'], /^ckpt: delete: missing required argument 'model'/],
    [['gc', '--keep', 'two'], /^ckpt: gc: option '-k, --keep <n>' argument 'two' is invalid/],
    [['gc', '--grace', '5y'], /^ckpt: gc: option '--grace <duration>' argument '5y' is invalid/],
    [['gc', 'extra'], /^ckpt: gc: too many arguments/],
    [['psuh'], /^ckpt: unknown command 'psuh' \(did you mean push\?\)/],
    [['--nope'], /^ckpt: unknown option '--nope'/],
  ])('ckpt %j', async (args, pattern) => {
    const run = await ckpt(args, { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, pattern);
    expect(existsSync(path.join(cwd, '.ckpt-store'))).toBe(false);
  });

  it('with --json, stdout holds exactly one error object', async () => {
    const run = await ckpt(['push', 'dir', '--json'], { cwd });
    expect(run.code).toBe(2);
    expect(lines(run.stdout)).toHaveLength(1);
    expect(JSON.parse(run.stdout)).toEqual({
      error: { code: 'Usage', message: expect.stringContaining('--model'), exitCode: 2 },
    });
    expect(lines(run.stderr)).toHaveLength(1);
  });

  it('a missing directory to push is named, exits 2 and creates no store', async () => {
    const run = await ckpt(['push', './no-such-dir', '--model', 'm'], { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, /^ckpt: push \.\/no-such-dir: no such directory$/m);
    expect(existsSync(path.join(cwd, '.ckpt-store'))).toBe(false);
  });

  it('a file where a directory is expected is refused', async () => {
    await writeFile(path.join(cwd, 'a-file'), 'x');
    const run = await ckpt(['push', 'a-file', '--model', 'm'], { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, /^ckpt: push a-file: not a directory$/m);
  });
});

describe('bad store URLs and config files exit 2 with one line naming the problem', () => {
  it.each([
    ['ftp://host/x', /unknown scheme "ftp:".*\(from --store\)$/m],
    ['s3://', /bucket.*\(from --store\)$/m],
    ['s3://bucket1?nope=1', /unknown query parameter "nope".*\(from --store\)$/m],
  ])('--store %s', async (url, pattern) => {
    const run = await ckpt(['ls', '--store', url], { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, pattern);
  });

  it('a URL carrying credentials is refused without echoing them', async () => {
    const run = await ckpt(['ls', '--store', 's3://AKIAUSER:hunter2secret@bucket1/p'], { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, /credential/i);
    expect(run.stderr).not.toContain('hunter2secret');
  });

  it('a bad CKPT_STORE names the variable', async () => {
    const run = await ckpt(['ls'], { cwd, env: { CKPT_STORE: 'nope://x' } });
    expect(run.code).toBe(2);
    expectOneLineError(run, /\(from CKPT_STORE\)$/m);
  });

  it('a bad config field names its path and the file', async () => {
    const dir = await tempDir();
    await writeFile(
      path.join(dir, 'ckpt.config.json'),
      JSON.stringify({ store: { type: 's3', bucket: '' } }),
    );
    const run = await ckpt(['ls'], { cwd: dir });
    expect(run.code).toBe(2);
    expectOneLineError(run, /store\.bucket/);
    expect(run.stderr).toContain(path.join(dir, 'ckpt.config.json'));
  });

  it('an unknown config field and invalid JSON are configuration errors too', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'typo.json'), JSON.stringify({ store: './s', sycn: {} }));
    await writeFile(path.join(dir, 'broken.json'), '{ "store": "./s", }');
    const typo = await ckpt(['ls', '--config', 'typo.json'], { cwd: dir });
    expect(typo.code).toBe(2);
    expectOneLineError(typo, /sycn/);
    const broken = await ckpt(['ls', '--config', 'broken.json'], { cwd: dir });
    expect(broken.code).toBe(2);
    expectOneLineError(broken, /line 1/);
  });

  it('a missing --config file is a configuration error', async () => {
    const run = await ckpt(['ls', '--config', 'missing.json'], { cwd });
    expect(run.code).toBe(2);
    expectOneLineError(run, /missing\.json/);
  });

  it('--debug adds the stack trace, and only --debug', async () => {
    const plain = await ckpt(['ls', '--store', 'ftp://x'], { cwd });
    expect(plain.stderr).not.toMatch(/\n\s+at /);
    const debug = await ckpt(['ls', '--store', 'ftp://x', '--debug'], { cwd });
    expect(debug.code).toBe(2);
    expect(debug.stderr).toMatch(/^ckpt: store URL/);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });
});

describe('store resolution: the first --verbose line names the store and its origin', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
    await mkdir(path.join(dir, 'conf'));
    await writeFile(path.join(dir, 'ckpt.config.json'), JSON.stringify({ store: './from-config' }));
    await writeFile(
      path.join(dir, 'conf', 'other.json'),
      JSON.stringify({ store: { type: 'fs', root: 'rel' } }),
    );
  });

  async function firstLine(args: string[], env?: Record<string, string>, where = dir) {
    const run = await ckpt(['ls', '--verbose', ...args], { cwd: where, env });
    return lines(run.stderr)[0];
  }

  it('the embedded default is ./.ckpt-store', async () => {
    const empty = await tempDir();
    expect(await firstLine([], undefined, empty)).toBe(
      `ckpt: store fs root=${path.join(empty, '.ckpt-store')} (the embedded default)`,
    );
  });

  it('ckpt.config.json in the working directory', async () => {
    expect(await firstLine([])).toBe(
      `ckpt: store fs root=${path.join(dir, 'from-config')} (from ${path.join(dir, 'ckpt.config.json')})`,
    );
  });

  it('--config, with paths relative to the config file', async () => {
    expect(await firstLine(['--config', 'conf/other.json'])).toBe(
      `ckpt: store fs root=${path.join(dir, 'conf', 'rel')} (from ${path.join(dir, 'conf', 'other.json')})`,
    );
  });

  it('CKPT_STORE beats the config file', async () => {
    expect(await firstLine([], { CKPT_STORE: './from-env' })).toBe(
      `ckpt: store fs root=${path.join(dir, 'from-env')} (from CKPT_STORE)`,
    );
  });

  it('--store beats CKPT_STORE', async () => {
    expect(await firstLine(['--store', 'file:///tmp/flag-store'], { CKPT_STORE: './from-env' })).toBe(
      'ckpt: store fs root=/tmp/flag-store (from --store)',
    );
  });

  it('an unreachable S3 store is an operational failure (exit 1), and no credential is printed', async () => {
    const secret = 'wJalrXUtnFEMI-never-print-me';
    const run = await ckpt(
      ['ls', '--verbose', '--store', 's3://bucket1/prefix?region=us-east-1&endpoint=http://127.0.0.1:9'],
      { cwd, env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE', AWS_SECRET_ACCESS_KEY: secret } },
    );
    expect(run.code).toBe(1);
    const out = lines(run.stderr);
    expect(out[0]).toBe(
      'ckpt: store s3 bucket=bucket1 prefix=prefix region=us-east-1 endpoint=http://127.0.0.1:9 (from --store)',
    );
    expect(out.at(-1)).toMatch(/^ckpt: .*unavailable/i);
    // the store's retry policy: 4 retries by default, each named in verbose output (of the
    // first request: reading the store's record)
    expect(out.filter((line) => /^ckpt: retry \d of get ckpt\/store\.json /.test(line))).toHaveLength(4);
    expect(run.stderr + run.stdout).not.toContain(secret);
  });

  it('the config file sets how store requests are retried', async () => {
    const here = await tempDir();
    await writeFile(
      path.join(here, 'ckpt.config.json'),
      JSON.stringify({
        store: 's3://bucket1/prefix?region=us-east-1&endpoint=http://127.0.0.1:9',
        sync: { attempts: 2, retryWithin: '10s' },
      }),
    );
    const run = await ckpt(['ls', '--verbose'], {
      cwd: here,
      env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    expect(run.code).toBe(1);
    expect(lines(run.stderr).filter((line) => /^ckpt: retry /.test(line))).toHaveLength(1);

    // --retries (and CKPT_RETRIES) win over the config file
    const flag = await ckpt(['ls', '--verbose', '--retries', '0'], {
      cwd: here,
      env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x' },
    });
    expect(flag.code).toBe(1);
    expect(lines(flag.stderr).filter((line) => /^ckpt: retry /.test(line))).toHaveLength(0);
    const variable = await ckpt(['ls', '--verbose'], {
      cwd: here,
      env: { AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE', AWS_SECRET_ACCESS_KEY: 'x', CKPT_RETRIES: '2' },
    });
    expect(lines(variable.stderr).filter((line) => /^ckpt: retry /.test(line))).toHaveLength(2);
  });

  it('--concurrency and --retries take integers in their range (exit 2 otherwise)', async () => {
    const here = await tempDir();
    for (const args of [
      ['--concurrency', '0'],
      ['--concurrency', 'many'],
      ['--retries', '-1'],
      ['--retries', '100'],
    ]) {
      const run = await ckpt(['ls', ...args], { cwd: here });
      expect(run.code).toBe(2);
      expect(lines(run.stderr)).toEqual([
        expect.stringMatching(/^ckpt: .*expected an integer from \d+ to \d+/),
      ]);
    }
  });
});

describe('the bundled backends', () => {
  it('are found beside the command, also when it runs through a symlink far from its package', async () => {
    // as a global install links `ckpt` into a bin folder: core finds @ckpt/s3 and @ckpt/fs from
    // the real path of the main script, not from the link's folder or the working directory
    const dir = await tempDir();
    const link = path.join(dir, 'ckpt');
    await symlink(BIN, link);
    const run = (args: string[]) =>
      promisify(execFile)(process.execPath, [link, ...args], {
        cwd: dir,
        env: { PATH: process.env.PATH },
      }).then(
        (done) => ({ code: 0, ...done }),
        (failed: { code: number; stdout: string; stderr: string }) => failed,
      );
    const s3 = await run(['ls', '--store', 's3://bucket1?nope=1']);
    expect(s3.code).toBe(2);
    expect(s3.stderr).toMatch(/^ckpt: store URL: unknown query parameter "nope"; allowed: region, /);
    const fs = await run(['exists', 'm', '--store', `file://${dir}`]);
    expect(fs.code).toBe(3);
    expect(fs.stdout).toBe(`m: no complete checkpoint in file://${dir}\n`);
  });
});
