import { StoreError } from '../errors.js';

// Helpers for a backend's `fromUrl`: they turn the parts of a store URL into config fields and
// reject what a store URL must not carry. Errors are `InvalidArgument` with operation `store URL`
// and never repeat the URL (it may hold a secret).

/** An `InvalidArgument` error about a store URL. */
export function urlError(detail: string, field?: string): StoreError {
  return new StoreError('InvalidArgument', detail, { operation: 'store URL', key: field });
}

// query parameter names that carry a secret: S3/GCS presigning, Azure SAS and keys, tokens
const CREDENTIAL_PARAM =
  /secret|password|passphrase|token|credential|signature|^sig$|accesskey|accountkey|connectionstring|sas|apikey|privatekey|^x-(?:amz|goog)-/i;

/**
 * Throws when `url` carries credentials (`user:pass@`, `?secretAccessKey=`, `?sig=`, …): they are
 * never taken from URLs, which end up in shell history, logs and process lists.
 */
export function rejectUrlCredentials(url: URL): void {
  const param = [...url.searchParams.keys()].find((name) => CREDENTIAL_PARAM.test(name));
  const found =
    url.username || url.password ? 'user:password@' : param && `the ${JSON.stringify(param)} parameter`;
  if (found) {
    throw urlError(
      `credentials are never taken from URLs (remove ${found}); use the SDK's default credential chain, environment variables or the config file`,
    );
  }
}

/** How a query parameter's text becomes a config value. */
export type QueryFieldKind = 'string' | 'boolean' | 'integer';

/**
 * The query parameters of `url` as config fields. Each allowed name maps to its kind: `boolean`
 * turns `true`/`false` into booleans, `integer` turns digits into a number (anything else stays a
 * string for the schema to reject). An unknown or repeated parameter is an error.
 */
export function queryFields(url: URL, allowed: Record<string, QueryFieldKind>): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of url.searchParams) {
    const kind = Object.hasOwn(allowed, name) ? allowed[name] : undefined;
    if (!kind) {
      const names = Object.keys(allowed);
      throw urlError(
        `unknown query parameter ${JSON.stringify(name)}; allowed: ${names.join(', ') || 'none'}`,
      );
    }
    if (Object.hasOwn(fields, name))
      throw urlError(`query parameter ${JSON.stringify(name)} is given more than once`);
    if (kind === 'boolean') fields[name] = value === 'true' ? true : value === 'false' ? false : value;
    else if (kind === 'integer') fields[name] = /^\d+$/.test(value) ? Number(value) : value;
    else fields[name] = value;
  }
  return fields;
}

/** The host part (bucket, container) of `url`, percent-decoded; a port is an error. */
export function urlHost(url: URL, field: string): string {
  if (url.port)
    throw urlError(`a port is not allowed in the ${field} name; give the server as ?endpoint=`, field);
  return decode(url.hostname, field);
}

/** The path of `url` as a key prefix (`/a/b/` → `a/b`), or undefined when there is none. */
export function urlPrefix(url: URL): string | undefined {
  const prefix = decode(url.pathname, 'prefix').replace(/^\/+|\/+$/g, '');
  return prefix === '' ? undefined : prefix;
}

/** Percent-decodes `text`; malformed escapes are an error about `field`. */
export function decode(text: string, field: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw urlError('malformed percent-encoding', field);
  }
}

/** `{a: undefined, b: 1}` → `{b: 1}`: optional fields absent from a URL stay absent from the config. */
export function defined<T extends Record<string, unknown>>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as T;
}
