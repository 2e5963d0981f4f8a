import { z } from 'zod';
import { BUILTIN_BACKENDS } from './builtins.js';

// Core checks of a store config only what every backend shares, its `type`; the backend's own
// schema (in its adapter package, or registered) checks the rest.

/** What a backend name may look like: lower-case letters, digits, `-` and `_`, starting with a letter. */
export const BACKEND_TYPE_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** The message of a malformed `type`. */
export const TYPE_EXPECTED = `expected ${Object.keys(BUILTIN_BACKENDS)
  .map((t) => `"${t}"`)
  .join(', ')} or the name of a custom backend (lower-case letters, digits, "-", "_")`;

/** Any store config as far as its `type` goes; the backend's own schema checks the rest. */
export const anyStoreConfigSchema = z
  .looseObject(
    { type: z.string({ error: TYPE_EXPECTED }).regex(BACKEND_TYPE_PATTERN, { error: TYPE_EXPECTED }) },
    { error: 'expected a store config object with a "type"' },
  )
  .meta({ description: 'A store config: its backend type and the fields that backend defines.' });

/** Any store config: a `type` and the fields its backend defines. */
export type AnyStoreConfig = { type: string } & Record<string, unknown>;

/**
 * A config of any type but `known`, not checked beyond its `type`: beside the schemas of the
 * `known` backends in a union, it leaves their configs to their own schemas (a typo in one is an
 * error there, not a config of some other backend).
 */
export function otherStoreConfigSchema(known: readonly string[]) {
  const others =
    known.length === 0
      ? BACKEND_TYPE_PATTERN
      : new RegExp(`^(?!(?:${known.join('|')})$)${BACKEND_TYPE_PATTERN.source.slice(1)}`);
  return z
    .looseObject({
      // `abort` lets unions report the known backend's branch instead
      type: z.string({ error: TYPE_EXPECTED }).regex(others, { error: TYPE_EXPECTED, abort: true }),
    })
    .meta({ description: 'Another backend: its type and its own fields, checked when the store is opened.' });
}
