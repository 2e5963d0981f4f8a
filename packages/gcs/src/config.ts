import {
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

const KiB = 1024;
const MiB = 1024 * KiB;
const TiB = 1024 * 1024 * MiB;

/**
 * Google Cloud Storage, or an emulator (fake-gcs-server). Credentials come from Application
 * Default Credentials unless `keyFilename` or `credentials` is given, and never from a URL.
 *
 * @example `{ "type": "gcs", "bucket": "ckpt", "prefix": "prod" }` — URL:
 * `gs://ckpt/prod?projectId=my-project&apiEndpoint=http://127.0.0.1:4443`.
 */
export const gcsConfigSchema = z.strictObject({
  type: z.literal('gcs'),
  bucket: text().meta({ description: 'Bucket name.' }),
  prefix: keyPrefix().optional().meta({ description: 'Key prefix every object is stored under.' }),
  projectId: text()
    .optional()
    .meta({ description: 'Google Cloud project; from the credentials when omitted.' }),
  apiEndpoint: httpUrl().optional().meta({
    description:
      'JSON API endpoint of an emulator, e.g. "http://127.0.0.1:4443"; default $STORAGE_EMULATOR_HOST, else Google.',
  }),
  keyFilename: text()
    .optional()
    .meta({ description: 'Service account key file; Application Default Credentials when omitted.' }),
  credentials: secret(
    z.looseObject({ client_email: text(), private_key: secret(text(), 'Private key.') }),
    'Service account key (its JSON); prefer Application Default Credentials.',
  ).optional(),
  resumableThreshold: integer(0, 5 * TiB)
    .optional()
    .meta({
      description: 'Bodies up to this many bytes go in one request; larger ones resumably. Default 16 MiB.',
    }),
  chunkSize: integer(256 * KiB, 5 * TiB)
    .refine((n) => n % (256 * KiB) === 0, { error: 'expected a multiple of 262144 (256 KiB)' })
    .optional()
    .meta({ description: 'Bytes per request of a resumable upload, a multiple of 256 KiB. Default 16 MiB.' }),
  timeout: timeout(),
});

/** A validated GCS store config. */
export type GcsConfig = z.infer<typeof gcsConfigSchema>;

/** `gs://bucket/prefix?projectId=…&apiEndpoint=…&resumableThreshold=…&chunkSize=…&timeout=60s` */
export function gcsConfigFromUrl(url: URL): unknown {
  const query = queryFields(url, {
    projectId: 'string',
    apiEndpoint: 'string',
    resumableThreshold: 'integer',
    chunkSize: 'integer',
    timeout: 'string',
  });
  const prefix = urlPrefix(url);
  return {
    type: 'gcs',
    bucket: urlHost(url, 'bucket'),
    ...(prefix === undefined ? {} : { prefix }),
    ...query,
  };
}
