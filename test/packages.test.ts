// The public packages as users get them: publint and attw find nothing, and their tarballs installed
// with npm into an empty project run the README's library example (ESM), a CommonJS consumer and
// the `ckpt` command.
import { execFile } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { makeCheckpoint, readTree, useTempDir } from '@ckpt/test-utils';
import { publint } from 'publint';
import { beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** The folders of the packages that are published (not `private`). */
async function publicPackages(): Promise<string[]> {
  const dirs: string[] = [];
  for (const name of (await readdir(path.join(ROOT, 'packages'))).sort()) {
    const manifest = JSON.parse(await readFile(path.join(ROOT, 'packages', name, 'package.json'), 'utf8'));
    if (!manifest.private) dirs.push(path.join(ROOT, 'packages', name));
  }
  return dirs;
}

const packages = await publicPackages();
const tempDir = useTempDir('ckpt-packages-', 'file');
/** Each public package's folder name → its tarball, as `pnpm pack` makes it for the registry. */
const tarballs = new Map<string, string>();
let work: string;

beforeAll(async () => {
  work = await tempDir();
  for (const dir of packages) {
    const { stdout } = await run(
      'npx',
      ['-y', 'pnpm@12.4.2', 'pack', '--pack-destination', path.join(work, 'tarballs')],
      {
        cwd: dir,
      },
    );
    tarballs.set(path.basename(dir), stdout.trim().split('\n').at(-1)!);
  }
}, 300_000);

describe('the published packages', () => {
  it.each(packages.map((dir) => path.basename(dir)))('%s: publint finds nothing', async (name) => {
    const tarball = (await readFile(tarballs.get(name)!)).buffer;
    const { messages } = await publint({ pack: { tarball }, strict: true });
    expect(messages).toEqual([]);
  });

  it.each(packages.map((dir) => path.basename(dir)))(
    '%s: attw finds no type resolution problem (ESM-only profile)',
    async (name) => {
      // ESM-only packages for Node >= 22, where `require()` loads ESM: the CommonJS test below runs one
      const attw = path.join(ROOT, 'node_modules/.bin/attw');
      const { stdout } = await run(attw, [tarballs.get(name)!, '--profile', 'esm-only', '--format', 'json'], {
        maxBuffer: 64 << 20,
      });
      // the profile leaves out node10 (no `exports`) and CommonJS resolution, as its exit code does
      const problems = (JSON.parse(stdout).analysis?.problems ?? []).filter(
        (problem: { resolutionKind?: string }) =>
          !['node10', 'node16-cjs'].includes(problem.resolutionKind ?? ''),
      );
      expect(problems).toEqual([]);
    },
  );

  describe('installed from their tarballs with npm', () => {
    let project: string;
    let env: NodeJS.ProcessEnv;

    beforeAll(async () => {
      project = path.join(work, 'project');
      await run('mkdir', ['-p', project]);
      await writeFile(
        path.join(project, 'package.json'),
        JSON.stringify({ name: 'consumer', private: true }),
      );
      const files = [...tarballs.values()];
      await run(
        'npm',
        ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...files],
        {
          cwd: project,
          maxBuffer: 64 << 20,
        },
      );
      env = { PATH: process.env.PATH, HOME: process.env.HOME, CKPT_STATE_DIR: path.join(work, 'state') };
    }, 600_000);

    it("runs the README's library example (ESM)", async () => {
      const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
      const example = /## The library\n\n```ts\n([\s\S]*?)```/.exec(readme)?.[1];
      expect(example).toBeDefined();
      const dir = await makeCheckpoint(path.join(project, 'llama-8b'));
      const before = await readTree(dir);
      const store = `file://${path.join(project, 'store')}`;
      const script = example!
        .replace("'/var/lib/llmux/ckpt/llama-8b'", JSON.stringify(dir))
        .replace("'s3://my-bucket/checkpoints?region=eu-west-1'", JSON.stringify(store));
      expect(script).not.toContain('s3://');
      await writeFile(
        path.join(project, 'example.mjs'),
        `${script}\nconsole.log(pushed.generation, pulled.generation);\n`,
      );
      const { stdout } = await run(process.execPath, ['example.mjs'], { cwd: project, env });
      const [pushed, pulled] = stdout.trim().split('\n').at(-1)!.split(' ');
      expect(pushed).toMatch(/^\d{8}T\d{9}Z-[0-9a-f]{8}$/);
      expect(pulled).toBe(pushed);
      expect(await readTree(dir)).toEqual(before);
    });

    it('loads in a CommonJS consumer (require of the ESM packages)', async () => {
      const source = await makeCheckpoint(path.join(project, 'cjs-source'), { seed: 3 });
      await writeFile(
        path.join(project, 'consumer.cjs'),
        `const { Checkpoints, openStore } = require('@ckpt/core');
const { FsStore } = require('@ckpt/fs');
(async () => {
  const checkpoints = new Checkpoints(new FsStore({ root: ${JSON.stringify(path.join(project, 'cjs-store'))} }));
  const pushed = await checkpoints.push('m', ${JSON.stringify(source)});
  await checkpoints.pull('m', ${JSON.stringify(path.join(project, 'cjs-copy'))});
  await checkpoints.close();
  console.log(pushed.generation, typeof openStore);
})();
`,
      );
      const { stdout } = await run(process.execPath, ['consumer.cjs'], { cwd: project, env });
      expect(stdout.trim()).toMatch(/^\S+ function$/);
      expect(await readTree(path.join(project, 'cjs-copy'))).toEqual(await readTree(source));
    });

    it('installs the ckpt command, which finds its bundled backends', async () => {
      const source = await makeCheckpoint(path.join(project, 'cli-source'), { seed: 4 });
      const ckpt = (...args: string[]) =>
        run(path.join(project, 'node_modules/.bin/ckpt'), args, { cwd: project, env });
      expect((await ckpt('--version')).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
      await ckpt('push', source, '-m', 'cli', '--store', './cli-store');
      await ckpt('pull', 'cli', 'cli-copy', '--store', './cli-store');
      expect(await readTree(path.join(project, 'cli-copy'))).toEqual(await readTree(source));
      // each bundled adapter loads and reaches for its server (a closed port here)
      for (const url of [
        's3://bucket-x?region=us-east-1&endpoint=http://127.0.0.1:9',
        'gs://bucket-x?apiEndpoint=http://127.0.0.1:9',
        'az://container-x?account=acct&endpoint=http://127.0.0.1:9',
      ]) {
        const failed = await run(
          path.join(project, 'node_modules/.bin/ckpt'),
          ['ls', '--store', url, '--retries', '0'],
          {
            cwd: project,
            env: {
              ...env,
              AWS_ACCESS_KEY_ID: 'AKIAEXAMPLEEXAMPLE',
              AWS_SECRET_ACCESS_KEY: 'x',
              AZURE_STORAGE_KEY: 'eA==',
            },
          },
        ).catch((err) => err);
        expect(failed.stderr).toMatch(/^ckpt: .*(unavailable|ECONNREFUSED)/);
      }
    });
  });
});
