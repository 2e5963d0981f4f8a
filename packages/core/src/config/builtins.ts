import type { z } from 'zod';
import { azureConfigFromUrl, fsConfigFromUrl, gcsConfigFromUrl, s3ConfigFromUrl } from './builtin-urls.js';
import type { BuiltinType } from './schemas.js';
import { azureConfigSchema, fsConfigSchema, gcsConfigSchema, s3ConfigSchema } from './schemas.js';

/** What core knows about a built-in backend without loading its adapter package. */
export interface BuiltinBackend {
  /** The adapter package that provides `open`, imported on first use. */
  package: string;
  schemes: string[];
  schema: z.ZodType<{ type: string }>;
  fromUrl(url: URL): unknown;
  /**
   * The adapter package is not written yet: configs and URLs of this type parse and validate,
   * opening one fails with `Unsupported` saying so (unless an adapter for the type is registered).
   */
  planned?: true;
}

/** The built-in backends: schemas and URL forms live in core, `open` in each adapter package. */
export const BUILTIN_BACKENDS: Readonly<Record<BuiltinType, BuiltinBackend>> = {
  fs: { package: '@ckpt/fs', schemes: ['file'], schema: fsConfigSchema, fromUrl: fsConfigFromUrl },
  s3: { package: '@ckpt/s3', schemes: ['s3'], schema: s3ConfigSchema, fromUrl: s3ConfigFromUrl },
  gcs: {
    package: '@ckpt/gcs',
    schemes: ['gs'],
    schema: gcsConfigSchema,
    fromUrl: gcsConfigFromUrl,
    planned: true,
  },
  azure: {
    package: '@ckpt/azure',
    schemes: ['az'],
    schema: azureConfigSchema,
    fromUrl: azureConfigFromUrl,
    planned: true,
  },
};

/** True when `type` names a built-in backend. */
export function isBuiltinType(type: string): type is BuiltinType {
  return Object.hasOwn(BUILTIN_BACKENDS, type);
}
