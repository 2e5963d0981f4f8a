import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * Imports package `name`: first as core itself would (from core's own location), then from `cwd`
 * (the user's project, where an adapter is installed beside the CLI). Resolves to `undefined` when
 * neither can find the package; any other failure (the package is there but breaks) is thrown.
 */
export async function importPackage(name: string, cwd: string): Promise<Record<string, unknown> | undefined> {
  try {
    return await import(/* @vite-ignore */ name);
  } catch (err) {
    if (!isNotFound(err, name)) throw err;
  }
  let file: string;
  try {
    file = createRequire(path.join(cwd, 'noop.js')).resolve(name);
  } catch (err) {
    if (isNotFound(err, name)) return undefined;
    throw err;
  }
  return import(/* @vite-ignore */ pathToFileURL(file).href);
}

/** True when `err` says `name` itself cannot be found (not one of its own dependencies). */
function isNotFound(err: unknown, name: string): boolean {
  const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  // Node names the module it could not find in quotes: "Cannot find package '@ckpt/s3' imported from …"
  return missing && String(message).includes(`'${name}'`);
}
