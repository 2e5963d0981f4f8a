import type { BackendDefinition } from '@ckpt/core';
import { requestTimeoutMs } from '@ckpt/core/backend';
import { parseDuration } from '@ckpt/core/cli';
import { type S3Config, s3ConfigFromUrl, s3ConfigSchema } from './config.js';
import { S3Backend } from './s3-store.js';

/**
 * The `s3` backend for `openStore`: its config schema and `s3://bucket/prefix?…` URL parser,
 * opening an {@link S3Backend}. Credentials come from the config or the SDK's default chain, never
 * from a URL.
 *
 * @example
 * ```ts
 * await openStore('s3://ckpt/prod?endpoint=http://127.0.0.1:9000&forcePathStyle=true&checksums=when_required');
 * ```
 */
export const backend: BackendDefinition<S3Config> = {
  type: 's3',
  schema: s3ConfigSchema,
  schemes: ['s3'],
  fromUrl: s3ConfigFromUrl,
  open: ({ type: _type, connectTimeout, timeout, ...options }, openOptions) =>
    new S3Backend({
      ...options,
      connectTimeoutMs: connectTimeout === undefined ? undefined : parseDuration(connectTimeout),
      timeoutMs: requestTimeoutMs({ timeout }, openOptions),
    }),
};
