import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { StoreError } from '../errors.js';
import { errorText } from './error-text.js';
import { parseConfig } from './format-issue.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry } from './registry.js';
import type { AnyStoreConfig } from './schemas.js';
import { decode, rejectUrlCredentials, urlError } from './url-parts.js';

/** Options of {@link parseStoreUrl}. */
export interface ParseStoreUrlOptions {
  /** Base of relative paths, and the last place to look for adapter packages. Default `process.cwd()`. */
  cwd?: string;
  /** Where schemes are looked up. Default: the process-wide registry. */
  registry?: BackendRegistry;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Turns a store URL into a validated config object, by the backend that owns its scheme: a
 * registered backend, or a built-in one whose package is imported first (`@ckpt/s3` for `s3:`, …).
 *
 * - a path (`./x`, `../x`, `/x`, `x`), `file:relative/path` or `file:/abs/path` is the `file:` URL
 *   of its absolute path (relative to `cwd`), for the backend of `file:` (`@ckpt/fs`: `{type: 'fs', root}`);
 * - any other URL goes to the backend of its scheme: `file:///abs/path`, `s3://bucket/prefix?region=…`,
 *   `gs://bucket/prefix`, `az://container/prefix?account=…`, or a custom backend's scheme.
 *
 * Throws `InvalidArgument` for an unknown scheme, a known scheme without `//` (`gs:/b`) or without
 * its colon (`s3//b`, which would otherwise be a local folder), an unknown query parameter, a field
 * the schema rejects, and any URL carrying credentials (they are never taken from URLs);
 * `Unsupported` when the package of the scheme's built-in backend is not installed.
 *
 * @example
 * ```ts
 * await parseStoreUrl('s3://ckpt/prod?region=eu-west-1') // { type: 's3', bucket: 'ckpt', prefix: 'prod', region: 'eu-west-1' }
 * await parseStoreUrl('./store', { cwd: '/srv' })       // { type: 'fs', root: '/srv/store' }
 * ```
 */
export async function parseStoreUrl(
  url: string,
  options: ParseStoreUrlOptions = {},
): Promise<AnyStoreConfig> {
  const registry = options.registry ?? defaultRegistry;
  const cwd = options.cwd ?? process.cwd();
  if (typeof url !== 'string' || url.trim() === '')
    throw urlError('expected a URL such as s3://bucket/prefix or a path');
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) refuseSchemeWithoutColon(url, registry);
  if (scheme === undefined || (scheme === 'file' && !url.slice(5).startsWith('//'))) {
    const type = registry.typeOfScheme('file');
    if (type === undefined) throw urlError('no backend opens local paths (none owns "file:" URLs)');
    // the absolute path as a URL: the backend sees one form of local path, and no query or fragment
    return configFromUrl(pathToFileURL(localPath(url, scheme, cwd)), 'file', type, registry, cwd);
  }
  const type = registry.typeOfScheme(scheme);
  if (type === undefined) {
    const known = registry.schemes().map((s) => `${s}:`);
    throw urlError(`unknown scheme "${scheme}:"; known: ${known.join(', ')} or a path`);
  }
  // `s3:/b` or `s3:b` would parse with an empty bucket; say what is missing instead
  if (!url.slice(scheme.length + 1).startsWith('//'))
    throw urlError(`"${scheme}:" must be followed by "//": ${scheme}://…`);
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw urlError(`not a valid ${scheme}: URL`);
  }
  rejectUrlCredentials(parsed);
  // WHATWG URLs silently collapse `a/../b`; a store URL with such segments is a mistake
  if (/\/\.{1,2}(?=[/?#]|$)/.test(url.split(/[?#]/)[0]!))
    throw urlError('a "." or ".." path segment is not allowed', 'prefix');
  if (parsed.hash) throw urlError('a store URL has no #fragment');
  return configFromUrl(parsed, scheme, type, registry, cwd);
}

/** The config the backend of `type` makes of `url`, validated by its schema. */
async function configFromUrl(
  url: URL,
  scheme: string,
  type: string,
  registry: BackendRegistry,
  cwd: string,
): Promise<AnyStoreConfig> {
  const def = await registry.load(type, { cwd });
  if (!def.fromUrl || !def.schemes?.includes(scheme))
    throw new StoreError('Internal', `the ${type} backend does not parse "${scheme}:" URLs`);
  let config: unknown;
  try {
    config = def.fromUrl(url);
  } catch (err) {
    if (StoreError.is(err)) throw err;
    throw new StoreError('InvalidArgument', `the ${type} backend rejected the URL: ${errorText(err)}`, {
      operation: 'store URL',
      cause: err,
    });
  }
  return parseConfig(def.schema, config, { operation: 'store URL' });
}

/**
 * Throws when a bare path starts like a known scheme that lost its colon (`s3//bucket`, `az//c`):
 * taken as a path it would silently be a local folder `./s3/bucket`, empty, so every read would
 * answer "no checkpoint". `./s3//bucket` still names such a folder.
 */
function refuseSchemeWithoutColon(url: string, registry: BackendRegistry): void {
  const word = /^([A-Za-z][A-Za-z0-9+.-]*)\/\//.exec(url)?.[1]?.toLowerCase();
  if (word === undefined || !registry.schemes().includes(word)) return;
  throw urlError(
    `"${word}//…" looks like a URL missing its ":" (write ${word}://…, or ./${word}//… for a local folder)`,
  );
}

/** The absolute path of a bare path or a `file:relative/path` / `file:/abs/path` URL. */
function localPath(url: string, scheme: string | undefined, cwd: string): string {
  if (scheme === undefined) return path.resolve(cwd, url);
  const rest = url.slice(5);
  if (/[?#]/.test(rest))
    throw urlError('a file: URL has no query or #fragment (percent-encode "?" and "#")', 'path');
  if (rest === '') throw urlError('expected file:relative/path or file:///absolute/path', 'path');
  return path.resolve(cwd, decode(rest, 'path'));
}
