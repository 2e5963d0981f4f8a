import { realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports package `name`, looking for it, in order:
 *
 * 1. as core itself would (from core's own location: the adapters installed beside core);
 * 2. from the main script's location (`mainScript`, default `process.argv[1]`, symlinks
 *    resolved): a program's own dependencies, e.g. the `@ckpt/fs` and `@ckpt/s3` the `ckpt`
 *    command bundles, which pnpm's strict layout hides from core;
 * 3. from `cwd`: the user's project, where an adapter is installed beside a global CLI.
 *
 * Resolves to `undefined` when none finds the package; any other failure (the package is there
 * but breaks) is thrown.
 */
export async function importPackage(
  name: string,
  cwd: string,
  mainScript: string | undefined = process.argv[1],
): Promise<Record<string, unknown> | undefined> {
  try {
    return await import(/* @vite-ignore */ name);
  } catch (err) {
    if (!isNotFound(err, name)) throw err;
  }
  for (const base of [scriptDir(mainScript), cwd]) {
    if (base === undefined) continue;
    let file: string;
    try {
      file = createRequire(path.join(base, 'noop.js')).resolve(name);
    } catch (err) {
      if (isNotFound(err, name)) continue;
      throw err;
    }
    return import(/* @vite-ignore */ pathToFileURL(file).href);
  }
  return undefined;
}

/**
 * The folder that holds the real file of `script` (a global `ckpt` is a symlink in a `bin`
 * folder far from its package), or the folder itself; undefined when there is no such file
 * (`node -e`, a REPL).
 */
function scriptDir(script: string | undefined): string | undefined {
  if (!script) return undefined;
  try {
    const real = realpathSync(script);
    return statSync(real).isDirectory() ? real : path.dirname(real);
  } catch {
    return undefined;
  }
}

/** True when `err` says `name` itself cannot be found (not one of its own dependencies). */
function isNotFound(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  // Node names the module it could not find in quotes: "Cannot find package '@ckpt/s3' imported from …"
  return missing && String(message).includes(`'${name}'`);
}
