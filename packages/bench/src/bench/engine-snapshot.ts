import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, readdir, readFile, realpath, symlink, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { filesUnder } from './sdk.js';

const run = promisify(execFile);

/** The engine packages a runner child loads. */
const ENGINE_PACKAGES = ['@ckpt/core', '@ckpt/fs', '@ckpt/s3', '@ckpt/gcs', '@ckpt/azure'] as const;

/** The engine build a run measures. */
export interface EngineSnapshot {
  /** The runner child inside the snapshot. */
  runner: string;
  /** Commit of the checkout when the run started. */
  commit: string;
  /** Sources of an engine package differed from that commit. */
  dirty: boolean;
  /** SHA-256 (16 hex) of the built JavaScript of the engine packages that the run measures. */
  hash: string;
}

function packageDir(name: string): string {
  return dirname(createRequire(import.meta.url).resolve(`${name}/package.json`));
}

/** SHA-256 over the `.js` files of the engine packages' `dist/` under `nodeModules` (or the live ones). */
export async function engineHash(nodeModules?: string): Promise<string> {
  const hash = createHash('sha256');
  for (const name of ENGINE_PACKAGES) {
    const dist = join(nodeModules ? join(nodeModules, name) : packageDir(name), 'dist');
    for (const file of (await filesUnder(dist)).filter((f) => f.endsWith('.js'))) {
      hash.update(file.slice(dist.length)).update(await readFile(file));
    }
  }
  return hash.digest('hex').slice(0, 16);
}

/** Links every dependency of `pkg` (its `node_modules` entries, scoped ones included) into `nodeModules`. */
async function linkDependencies(pkg: string, nodeModules: string): Promise<void> {
  const own = join(pkg, 'node_modules');
  const names: string[] = [];
  for (const entry of await readdir(own).catch(() => [] as string[])) {
    if (entry === '.bin' || entry === '@ckpt') continue;
    if (entry.startsWith('@'))
      for (const sub of await readdir(join(own, entry))) names.push(`${entry}/${sub}`);
    else names.push(entry);
  }
  for (const name of names) {
    await mkdir(dirname(join(nodeModules, name)), { recursive: true });
    await symlink(await realpath(join(own, name)), join(nodeModules, name), 'dir').catch((err) => {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    });
  }
}

/**
 * Copies the built engine (core and the adapters `ENGINE_PACKAGES` names: package.json and dist/) and
 * the benchmark's runner into `<dir>`, with links to their dependencies, so that every runner
 * child of a long run loads the same build even when someone rebuilds the checkout meanwhile.
 */
export async function snapshotEngine(dir: string): Promise<EngineSnapshot> {
  const nodeModules = join(dir, 'node_modules');
  for (const name of ENGINE_PACKAGES) {
    const from = packageDir(name);
    const to = join(nodeModules, name);
    await mkdir(to, { recursive: true });
    await cp(join(from, 'package.json'), join(to, 'package.json'));
    await cp(join(from, 'dist'), join(to, 'dist'), { recursive: true });
    await linkDependencies(from, nodeModules);
  }
  const benchDist = dirname(fileURLToPath(import.meta.url));
  await cp(benchDist, join(dir, 'bench'), { recursive: true });
  await writeFile(join(dir, 'package.json'), '{ "private": true, "type": "module" }\n');
  const git = (args: string[]) =>
    run('git', args, { cwd: packageDir('@ckpt/core') }).then(
      ({ stdout }) => stdout.trim(),
      () => '',
    );
  const sources = ENGINE_PACKAGES.map((name) => join(packageDir(name), 'src'));
  return {
    runner: join(dir, 'bench', 'runner-child.js'),
    commit: (await git(['rev-parse', '--short', 'HEAD'])) || 'unknown',
    dirty: (await git(['status', '--porcelain', '--', ...sources])) !== '',
    hash: await engineHash(nodeModules),
  };
}
