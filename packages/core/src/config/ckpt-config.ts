import { z } from 'zod';
import { DURATION_PATTERN, duration, integer, text } from './fields.js';
import { customStoreConfigSchema, storeConfigSchema } from './schemas.js';

export { DURATION_PATTERN };

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration such as `6h` or `1h30m` (see {@link DURATION_PATTERN}); `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g))
    total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/**
 * Where the checkpoints live: a store URL (`s3://bucket/prefix`, `./dir`, …) or a config object
 * with a `type`. Built-in types are checked here; a custom type only by its backend, when opened.
 */
export const storeFieldSchema = z
  .union([text().meta({ description: 'A store URL or path.' }), customStoreConfigSchema, storeConfigSchema], {
    error: 'expected a store URL such as "s3://bucket/prefix" or an object with a "type"',
  })
  .meta({ description: 'The object store: a URL (s3://, gs://, az://, file:, a path) or a config object.' });

/** Settings of the sync engine that a config file may override. */
export const syncSettingsSchema = z
  .strictObject({
    concurrency: integer(1, 1024).optional().meta({ description: 'Parallel transfers.' }),
    grace: duration()
      .optional()
      .meta({ description: 'How long unreferenced data is kept before garbage collection may delete it.' }),
  })
  .meta({ description: 'Settings of the sync engine.' });

/**
 * The content of `ckpt.config.json`.
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
export const ckptConfigSchema = z
  .strictObject({
    $schema: z.string({ error: 'expected a string' }).optional().meta({ description: 'This JSON Schema.' }),
    store: storeFieldSchema,
    modules: z.array(text(), { error: 'expected a list of module names or paths' }).optional().meta({
      description:
        'Modules to import before opening the store; they register custom backends. Relative paths resolve against this file.',
    }),
    sync: syncSettingsSchema.optional(),
  })
  .meta({ title: 'ckpt configuration', description: 'Configuration of ckpt (ckpt.config.json).' });

/** A validated `ckpt.config.json`. */
export type CkptConfig = z.infer<typeof ckptConfigSchema>;
/** The sync settings of a config file. */
export type SyncSettings = z.infer<typeof syncSettingsSchema>;
