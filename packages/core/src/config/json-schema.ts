import { z } from 'zod';
import type { BackendDefinition } from './backend-definition.js';
import { ckptConfigSchemaFor } from './ckpt-config.js';
import { defaultRegistry } from './registry.js';

/**
 * The JSON Schema (draft 2020-12) of `ckpt.config.json`, with the config schemas of `definitions`
 * (default: the backends registered in the process-wide registry): editors complete and check a
 * store config of one of those types; any other type is accepted as is. Secret fields are marked
 * `writeOnly`. `@ckpt/core/schema.json` is this for the fs and s3 backends, committed (written by
 * `pnpm --filter @ckpt/cli gen:schema`).
 */
export function ckptConfigJsonSchema(
  definitions: Iterable<BackendDefinition> = defaultRegistry.definitions(),
): Record<string, unknown> {
  const sorted = [...definitions].sort((a, b) => (a.type < b.type ? -1 : 1));
  return z.toJSONSchema(ckptConfigSchemaFor(sorted), { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
}
