import { z } from 'zod';
import type { AnyDefinition } from './backend-definition.js';
import { byteSize, duration, integer, text } from './fields.js';
import { anyStoreConfigSchema, otherStoreConfigSchema } from './schemas.js';

export { DURATION_PATTERN, parseDuration } from './fields.js';

const STORE_EXPECTED = 'expected a store URL such as "s3://bucket/prefix" or an object with a "type"';

/**
 * Where the checkpoints live: a store URL (`s3://bucket/prefix`, `./dir`, …) or a config object
 * with a `type`. Only the `type` is checked here: the backend's own schema checks the rest when
 * the store is resolved or opened (its package loaded, or its module imported, first).
 */
export const storeFieldSchema = z
  .union([text().meta({ description: 'A store URL or path.' }), anyStoreConfigSchema], {
    error: STORE_EXPECTED,
  })
  .meta({ description: 'The object store: a URL (s3://, file:, a path, …) or a config object.' });

/**
 * The store field with the schemas of `definitions` in it, for the JSON Schema: a config of one of
 * their types must match its schema, any other type is taken as is.
 */
function storeFieldSchemaFor(definitions: readonly AnyDefinition[]) {
  const types = definitions.map((def) => def.type);
  const schemes = definitions.flatMap((def) => def.schemes ?? []).map((scheme) => `${scheme}:`);
  return z
    .union(
      [
        text().meta({ description: 'A store URL or path.' }),
        otherStoreConfigSchema(types),
        ...definitions.map((def) => def.schema),
      ],
      { error: STORE_EXPECTED },
    )
    .meta({
      description: `The object store: a URL (${[...schemes, 'a path'].join(', ')}, …) or a config object.`,
    });
}

/** Settings of the sync engine that a config file may override. */
export const syncSettingsSchema = z
  .strictObject({
    concurrency: integer(1, 1024).optional().meta({ description: 'Parallel transfers.' }),
    grace: duration()
      .optional()
      .meta({ description: 'How long unreferenced data is kept before garbage collection may delete it.' }),
    attempts: integer(1, 100).optional().meta({
      description:
        'Attempts of each store request that fails with a retryable error, the first included (1: never retry). Default 5.',
    }),
    retryWithin: duration().optional().meta({
      description:
        'No retry starts later than this after a request began or last made progress, e.g. "60s" (default).',
    }),
  })
  .meta({ description: 'Settings of the sync engine.' });

/** The host's chunk cache (`--cache`, `--cache-size`). */
export const cacheSettingsSchema = z
  .strictObject({
    dir: text().meta({
      description: 'The folder of the host-wide chunk cache. Relative paths resolve against this file.',
    }),
    size: byteSize().optional().meta({
      description: 'Bytes the cache may hold, e.g. "20GiB" (default); least recently used chunks go first.',
    }),
  })
  .meta({
    description:
      'A chunk cache shared by every model and ckpt process of the host: pulls read from it before the store.',
  });

/** Client-side encryption: on when present; the key from `keyFile`, or the `CKPT_ENCRYPTION_KEY` variable. */
export const encryptionSettingsSchema = z
  .strictObject({
    keyFile: text().optional().meta({
      description:
        'A file holding the encryption key (at least 16 bytes; a last newline is dropped). Relative paths resolve against this file. Default: the CKPT_ENCRYPTION_KEY variable.',
    }),
  })
  .meta({
    description:
      'Encrypt the store (AES-256-GCM, keys derived from the user key): a store first pushed with this is encrypted for good, and needs the key for every command.',
  });

/** The schema of `ckpt.config.json` with `store` checked by `store`. */
function configSchemaWith(store: z.ZodType) {
  return z
    .strictObject({
      $schema: z.string({ error: 'expected a string' }).optional().meta({ description: 'This JSON Schema.' }),
      store,
      modules: z.array(text(), { error: 'expected a list of module names or paths' }).optional().meta({
        description:
          'Modules to import before opening the store; they register custom backends. Relative paths resolve against this file.',
      }),
      sync: syncSettingsSchema.optional(),
      cache: cacheSettingsSchema.optional(),
      encryption: encryptionSettingsSchema.optional(),
    })
    .meta({ title: 'ckpt configuration', description: 'Configuration of ckpt (ckpt.config.json).' });
}

/**
 * The content of `ckpt.config.json`. A store config object is checked only as far as its `type`
 * here; its backend checks the rest (`resolveStoreConfig`, `validateStoreConfig`).
 *
 * @example
 * ```json
 * {
 *   "$schema": "./node_modules/@ckpt/core/schema/ckpt.config.schema.json",
 *   "store": { "type": "s3", "bucket": "ckpt", "prefix": "prod" },
 *   "sync": { "concurrency": 8, "grace": "6h" }
 * }
 * ```
 */
export const ckptConfigSchema = configSchemaWith(storeFieldSchema);

/** The schema of `ckpt.config.json` whose store configs of the types of `definitions` are checked by their schemas. */
export function ckptConfigSchemaFor(definitions: readonly AnyDefinition[]) {
  return configSchemaWith(storeFieldSchemaFor(definitions));
}

/** A validated `ckpt.config.json`. */
export type CkptConfig = z.infer<typeof ckptConfigSchema>;
/** The cache settings of a config file. */
export type CacheSettings = z.infer<typeof cacheSettingsSchema>;
/** The sync settings of a config file. */
export type SyncSettings = z.infer<typeof syncSettingsSchema>;
