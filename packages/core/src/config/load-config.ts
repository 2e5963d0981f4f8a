import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StoreError } from '../errors.js';
import type { BackendDefinition } from './backend-definition.js';
import type { CkptConfig } from './ckpt-config.js';
import { ckptConfigSchema } from './ckpt-config.js';
import { errorText } from './error-text.js';
import { parseConfig } from './format-issue.js';
import { locateJsonError } from './json-error.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry } from './registry.js';
import { withOrigin } from './with-origin.js';

/** The config file looked for in the working directory. */
export const CONFIG_FILE_NAME = 'ckpt.config.json';

/**
 * Reads and validates a `ckpt.config.json` file. Errors are one line and name the file: `NotFound`
 * when it is missing, `InvalidArgument` for a JSON syntax error (with line and column) or a field
 * the schema rejects (`config sync.grace: expected a duration such as "30s", "6h" or "1h30m" (in
 * /srv/ckpt.config.json)`). A store config object is checked only as far as its `type`: its
 * backend, maybe registered by one of the `modules`, checks the rest (`resolveStoreConfig`).
 */
export async function loadConfigFile(file: string): Promise<CkptConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    const code = (cause as { code?: string }).code;
    const kind = code === 'ENOENT' ? 'NotFound' : code === 'EACCES' ? 'PermissionDenied' : 'Internal';
    throw new StoreError(kind, `cannot read the config file (${code ?? String(cause)})`, {
      operation: 'config',
      key: file,
      cause,
    });
  }
  text = text.replace(/^\uFEFF/, '');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    const at = locateJsonError(text);
    const where = at ? ` at line ${at.line}, column ${at.column}: ${at.reason}` : '';
    throw new StoreError('InvalidArgument', `invalid JSON${where}`, { operation: 'config', key: file });
  }
  try {
    return parseConfig(ckptConfigSchema, json, { operation: 'config' });
  } catch (err) {
    throw withOrigin(err, `in ${file}`);
  }
}

/**
 * Imports the `modules` of a config file, so the custom backends they define are registered.
 * Paths (`./backend.js`) resolve against `baseDir` (the config file's folder), package names from
 * there too. A module may call `registerBackend` itself or export `backend` (or a `backends` list),
 * which is registered here — that also works when the module sees another copy of `@ckpt/core`.
 */
export async function importConfigModules(
  modules: readonly string[],
  baseDir: string,
  registry: BackendRegistry = defaultRegistry,
): Promise<void> {
  const require = createRequire(path.join(baseDir, 'noop.js'));
  for (const [index, spec] of modules.entries()) {
    const field = `modules[${index}]`;
    let mod: { backend?: BackendDefinition; backends?: BackendDefinition[] };
    try {
      const file = /^\.{0,2}\//.test(spec) ? path.resolve(baseDir, spec) : require.resolve(spec);
      mod = await import(/* @vite-ignore */ pathToFileURL(file).href);
    } catch (cause) {
      throw new StoreError('InvalidArgument', `cannot import ${JSON.stringify(spec)}: ${errorText(cause)}`, {
        operation: 'config',
        key: field,
        cause,
      });
    }
    for (const def of [mod.backend, ...(mod.backends ?? [])]) if (def) registry.register(def);
  }
}
