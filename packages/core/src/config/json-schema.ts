import { z } from 'zod';
import { ckptConfigSchema } from './ckpt-config.js';

/**
 * The JSON Schema (draft 2020-12) of `ckpt.config.json`, generated from {@link ckptConfigSchema}.
 * Editors use it for completion and checks; `@ckpt/core/schema.json` is this, committed.
 * Secret fields are marked `writeOnly`.
 */
export function ckptConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ckptConfigSchema, { target: 'draft-2020-12', io: 'input' }) as Record<
    string,
    unknown
  >;
}
