import {
  duration,
  flag,
  httpUrl,
  integer,
  keyPrefix,
  queryFields,
  secret,
  text,
  timeout,
  urlHost,
  urlPrefix,
} from '@ckpt/core/backend';
import { z } from 'zod';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * Amazon S3 or an S3-compatible server (MinIO, R2, Ceph, s3rver). Credentials normally come from
 * the SDK's default chain (environment, profile, instance role); `credentials` is for the rare
 * case where they must be given explicitly, and is never accepted in a URL.
 *
 * @example `{ "type": "s3", "bucket": "ckpt", "prefix": "prod", "region": "eu-west-1" }` — URL:
 * `s3://ckpt/prod?region=eu-west-1&endpoint=http://127.0.0.1:9000&forcePathStyle=true`.
 */
export const s3ConfigSchema = z.strictObject({
  type: z.literal('s3'),
  bucket: text().meta({ description: 'Bucket name.' }),
  prefix: keyPrefix().optional().meta({ description: 'Key prefix every object is stored under.' }),
  region: text().optional().meta({ description: 'AWS region; the SDK default chain when omitted.' }),
  endpoint: httpUrl().optional().meta({ description: 'Endpoint of an S3-compatible server.' }),
  forcePathStyle: flag()
    .optional()
    .meta({ description: 'Path-style requests (most local servers need it).' }),
  checksums: z
    .enum(['when_supported', 'when_required'], { error: 'expected "when_supported" or "when_required"' })
    .optional()
    .meta({
      description: 'When the SDK sends request checksums; some S3-compatible servers need "when_required".',
    }),
  conditionalWrites: flag()
    .optional()
    .meta({ description: 'Whether the server enforces If-None-Match / If-Match on PUT. Default true.' }),
  partSize: integer(5 * MiB, 5 * GiB, 'expected an integer from 5242880 (5 MiB) to 5368709120 (5 GiB)')
    .optional()
    .meta({ description: 'Multipart upload part size in bytes.' }),
  multipartThreshold: integer(0, 5 * GiB)
    .optional()
    .meta({
      description:
        'Bodies up to this many bytes go in one PutObject; larger ones as a multipart upload. Default 16 MiB.',
    }),
  concurrency: integer(1, 1024).optional().meta({ description: 'Parallel requests.' }),
  connectTimeout: duration()
    .optional()
    .meta({ description: 'Time to establish a connection, e.g. "10s" (default).' }),
  timeout: timeout(),
  credentials: secret(
    z.strictObject({
      accessKeyId: text(),
      secretAccessKey: secret(text(), 'Secret access key.'),
      sessionToken: secret(text(), 'Session token of temporary credentials.').optional(),
    }),
    'Static credentials; prefer the SDK default credential chain.',
  ).optional(),
});

/** A validated S3 store config. */
export type S3Config = z.infer<typeof s3ConfigSchema>;

/** `s3://bucket/prefix?region=…&endpoint=…&forcePathStyle=true&checksums=…&conditionalWrites=…&partSize=…&multipartThreshold=…&concurrency=…&connectTimeout=10s&timeout=60s` */
export function s3ConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, {
    region: 'string',
    endpoint: 'string',
    forcePathStyle: 'boolean',
    checksums: 'string',
    conditionalWrites: 'boolean',
    partSize: 'integer',
    multipartThreshold: 'integer',
    concurrency: 'integer',
    connectTimeout: 'string',
    timeout: 'string',
  });
  const prefix = urlPrefix(url);
  return {
    type: 's3',
    bucket: urlHost(url, 'bucket'),
    ...(prefix === undefined ? {} : { prefix }),
    ...query,
  };
}
