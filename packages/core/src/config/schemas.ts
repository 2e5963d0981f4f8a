import { z } from 'zod';
import { duration, flag, httpUrl, integer, keyPrefix, secret, text } from './fields.js';

const MiB = 1024 ** 2;
const GiB = 1024 ** 3;

/**
 * A directory on a local or mounted filesystem. A relative `root` resolves against the `cwd`
 * given to `openStore` (or the config file's folder).
 *
 * @example `{ "type": "fs", "root": "/var/lib/ckpt" }` — URL forms: `file:///var/lib/ckpt`,
 * `file:rel/dir`, `./rel/dir`, `/var/lib/ckpt`.
 */
export const fsConfigSchema = z.strictObject({
  type: z.literal('fs'),
  root: text().meta({ description: 'Directory that holds the objects.' }),
});

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
  concurrency: integer(1, 1024).optional().meta({ description: 'Parallel requests.' }),
  connectTimeout: duration()
    .optional()
    .meta({ description: 'Time to establish a connection, e.g. "10s" (default).' }),
  idleTimeout: duration().optional().meta({
    description: 'Time a connection may stay silent before the request fails, e.g. "60s" (default).',
  }),
  credentials: secret(
    z.strictObject({
      accessKeyId: text(),
      secretAccessKey: secret(text(), 'Secret access key.'),
      sessionToken: secret(text(), 'Session token of temporary credentials.').optional(),
    }),
    'Static credentials; prefer the SDK default credential chain.',
  ).optional(),
});

/**
 * Google Cloud Storage. Credentials come from Application Default Credentials.
 *
 * @example `{ "type": "gcs", "bucket": "ckpt", "prefix": "prod" }` — URL: `gs://ckpt/prod`.
 */
export const gcsConfigSchema = z.strictObject({
  type: z.literal('gcs'),
  bucket: text().meta({ description: 'Bucket name.' }),
  prefix: keyPrefix().optional().meta({ description: 'Key prefix every object is stored under.' }),
  projectId: text().optional().meta({ description: 'Google Cloud project.' }),
  apiEndpoint: httpUrl().optional().meta({ description: 'API endpoint, e.g. of a local emulator.' }),
});

/**
 * Azure Blob Storage (block blobs). Credentials come from `DefaultAzureCredential` unless a
 * `connectionString` is given (never in a URL).
 *
 * @example `{ "type": "azure", "container": "ckpt", "account": "myaccount" }` — URL:
 * `az://ckpt/prod?account=myaccount`.
 */
export const azureConfigSchema = z.strictObject({
  type: z.literal('azure'),
  container: text().meta({ description: 'Container name.' }),
  prefix: keyPrefix().optional().meta({ description: 'Key prefix every object is stored under.' }),
  account: text().optional().meta({ description: 'Storage account name.' }),
  endpoint: httpUrl().optional().meta({ description: 'Blob service URL, e.g. of Azurite.' }),
  connectionString: secret(text(), 'Connection string (holds the account key).').optional(),
});

/** A validated filesystem store config. */
export type FsConfig = z.infer<typeof fsConfigSchema>;
/** A validated S3 store config. */
export type S3Config = z.infer<typeof s3ConfigSchema>;
/** A validated Google Cloud Storage store config. */
export type GcsConfig = z.infer<typeof gcsConfigSchema>;
/** A validated Azure Blob Storage store config. */
export type AzureConfig = z.infer<typeof azureConfigSchema>;

/** The built-in backend names. */
export const BUILTIN_TYPES = ['fs', 's3', 'gcs', 'azure'] as const;
/** One of {@link BUILTIN_TYPES}. */
export type BuiltinType = (typeof BUILTIN_TYPES)[number];

/** Any built-in store config, chosen by `type`. */
export const storeConfigSchema = z.discriminatedUnion('type', [
  fsConfigSchema,
  s3ConfigSchema,
  gcsConfigSchema,
  azureConfigSchema,
]);
/** A validated built-in store config. */
export type StoreConfig = z.infer<typeof storeConfigSchema>;

/** What a backend name may look like: lower-case letters, digits, `-` and `_`, starting with a letter. */
export const BACKEND_TYPE_PATTERN = /^[a-z][a-z0-9_-]*$/;

/** The message of a malformed `type`. */
export const TYPE_EXPECTED = `expected ${BUILTIN_TYPES.map((t) => `"${t}"`).join(', ')} or the name of a custom backend (lower-case letters, digits, "-", "_")`;

/**
 * The config of a backend that is not built in: a `type` naming it plus any fields. Its own schema
 * checks the fields when the store is opened (after the module that registers it is imported).
 */
export const customStoreConfigSchema = z
  .looseObject({
    type: z
      .string({ error: TYPE_EXPECTED })
      // a backend name that is not a built-in one; `abort` lets unions report the built-in branch instead
      .regex(/^(?!(?:fs|s3|gcs|azure)$)[a-z][a-z0-9_-]*$/, { error: TYPE_EXPECTED, abort: true }),
  })
  .meta({ description: 'A custom backend: its type and its own fields, checked when the store is opened.' });
/** Any store config as far as its `type` goes; the backend's own schema checks the rest. */
export const anyStoreConfigSchema = z.looseObject(
  { type: z.string({ error: TYPE_EXPECTED }).regex(BACKEND_TYPE_PATTERN, { error: TYPE_EXPECTED }) },
  { error: 'expected a store config object with a "type"' },
);

/** Any store config: a `type` and the fields its backend defines. */
export type AnyStoreConfig = { type: string } & Record<string, unknown>;

/** A store config of a custom backend, not validated beyond its `type`. */
export type CustomStoreConfig = z.infer<typeof customStoreConfigSchema>;
