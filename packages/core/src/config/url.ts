import path from 'node:path';
import { StoreError } from '../errors.js';
import { errorText } from './error-text.js';
import { parseConfig } from './format-issue.js';
import type { BackendRegistry } from './registry.js';
import { defaultRegistry } from './registry.js';
import type { AnyStoreConfig } from './schemas.js';
import { decode, rejectUrlCredentials, urlError } from './url-parts.js';

/** Options of {@link parseStoreUrl}. */
export interface ParseStoreUrlOptions {
  /** Base of relative paths. Default `process.cwd()`. */
  cwd?: string;
  /** Where schemes are looked up. Default: the process-wide registry. */
  registry?: BackendRegistry;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):/;

/**
 * Turns a store URL into a validated config object.
 *
 * - a path (`./x`, `../x`, `/x`, `x`), `file:relative/path`, `file:///abs/path` → `{type: 'fs', root}`
 *   with `root` absolute (relative to `cwd`);
 * - any other scheme goes to the backend that owns it: `s3://bucket/prefix?region=…`,
 *   `gs://bucket/prefix`, `az://container/prefix?account=…`, or a custom backend's scheme.
 *
 * Throws `InvalidArgument` for an unknown scheme, a known scheme without `//` (`gs:/b`) or without
 * its colon (`s3//b`, which would otherwise be a local folder), an unknown query parameter, a field
 * the schema rejects, and any URL carrying credentials (they are never taken from URLs).
 *
 * @example
 * ```ts
 * parseStoreUrl('s3://ckpt/prod?region=eu-west-1') // { type: 's3', bucket: 'ckpt', prefix: 'prod', region: 'eu-west-1' }
 * parseStoreUrl('./store', { cwd: '/srv' })       // { type: 'fs', root: '/srv/store' }
 * ```
 */
export function parseStoreUrl(url: string, options: ParseStoreUrlOptions = {}): AnyStoreConfig {
  const registry = options.registry ?? defaultRegistry;
  const cwd = options.cwd ?? process.cwd();
  const context = { operation: 'store URL' };
  if (typeof url !== 'string' || url.trim() === '')
    throw urlError('expected a URL such as s3://bucket/prefix or a path');
  const scheme = SCHEME.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined) refuseSchemeWithoutColon(url, registry);
  if (scheme === undefined || (scheme === 'file' && !url.slice(5).startsWith('//'))) {
    return parseConfig(registry.schemaFor('fs')!, { type: 'fs', root: localPath(url, scheme, cwd) }, context);
  }
  const parser = registry.urlParser(scheme);
  if (!parser) {
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
  let config: unknown;
  try {
    config = parser.fromUrl(parsed);
  } catch (err) {
    if (StoreError.is(err)) throw err;
    throw new StoreError(
      'InvalidArgument',
      `the ${parser.type} backend rejected the URL: ${errorText(err)}`,
      {
        operation: 'store URL',
        cause: err,
      },
    );
  }
  return parseConfig(parser.schema, config, context);
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
    throw urlError('a file: URL has no query or #fragment (percent-encode "?" and "#")', 'root');
  if (rest === '') throw urlError('expected file:relative/path or file:///absolute/path', 'root');
  return path.resolve(cwd, decode(rest, 'root'));
}
