import { StoreError } from '@ckpt/core';
import { dirPrefix } from '@ckpt/core/backend';
import type { Bucket, Storage, StorageOptions } from '@google-cloud/storage';

const KiB = 1024;
const MiB = 1024 * KiB;

/** GCS's largest object (5 TiB). */
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;
/** Resumable upload chunks are multiples of 256 KiB (GCS refuses others but the last). */
export const CHUNK_GRANULE = 256 * KiB;

/** Defaults: one request up to 16 MiB, else a resumable upload in 16 MiB chunks (the memory of a put). */
export const DEFAULTS = Object.freeze({
  resumableThreshold: 16 * MiB,
  chunkSize: 16 * MiB,
  listPageSize: 1000,
});

/**
 * Defaults of the client a backend builds. The SDK's transport has one inactivity timer per
 * request, which runs from the moment the socket is asked for: it bounds the connection and any
 * later silence alike.
 */
export const CLIENT_DEFAULTS = Object.freeze({
  timeoutMs: 60_000,
});

/** Options shared by every way of building a {@link GcsBackend}. */
export interface GcsCommonOptions {
  /** Key prefix inside the bucket (`team/ckpt`): the store only sees keys under `prefix/`. */
  prefix?: string;
  /**
   * Bodies up to this many bytes go in one request carrying their CRC32C; longer ones as a
   * resumable upload. A stream is buffered up to this size to decide. Default 16 MiB.
   */
  resumableThreshold?: number;
  /**
   * Bytes per request of a resumable upload, a multiple of 256 KiB; the SDK buffers one chunk, so
   * this bounds a put's memory (with `resumableThreshold`). Default 16 MiB.
   */
  chunkSize?: number;
  /** Objects per listing page, 1–1000. Default 1000 (tests use small pages). */
  listPageSize?: number;
}

/** A service account key, as in its JSON file. Prefer Application Default Credentials. */
export interface GcsCredentials {
  client_email: string;
  private_key: string;
  [field: string]: unknown;
}

/** Build the client from these settings (mirrors the `gcs` config). */
export interface GcsConnectionOptions extends GcsCommonOptions {
  /** The bucket. Must exist. */
  bucket: string;
  /** The project; from the credentials or the environment when omitted (the object API does not need it). */
  projectId?: string;
  /**
   * The JSON API's root, e.g. `http://127.0.0.1:4443` for fake-gcs-server. Default:
   * `$STORAGE_EMULATOR_HOST` when set, else Google's. Requests to a custom endpoint are not
   * authenticated (emulators need none).
   */
  apiEndpoint?: string;
  /** A service account key file. Without it (and `credentials`): Application Default Credentials. */
  keyFilename?: string;
  /** A service account key. Without it (and `keyFilename`): Application Default Credentials. */
  credentials?: GcsCredentials;
  /**
   * Milliseconds a request may go without an answer, or a body without progress (connecting
   * included), before it fails with a retryable `Unavailable`. From 1 ms to a day; default 60 s.
   */
  timeoutMs?: number;
}

/** A ready `Storage` (your own auth, interceptors) and the bucket's name. The backend never closes it. */
export interface GcsStorageOptions extends GcsCommonOptions {
  storage: Storage;
  bucket: string;
}

/** A ready `Bucket`. */
export interface GcsBucketOptions extends GcsCommonOptions {
  bucket: Bucket;
}

/** Options of {@link GcsBackend}: connection settings, a ready `Storage` and a bucket name, or a ready `Bucket`. */
export type GcsBackendOptions = GcsConnectionOptions | GcsStorageOptions | GcsBucketOptions;

/** Validated options with every default filled in. */
export interface ResolvedOptions {
  /** `''` or a prefix ending with `/`. */
  keyPrefix: string;
  resumableThreshold: number;
  chunkSize: number;
  listPageSize: number;
}

/** Validates the numeric options and fills in defaults; throws `InvalidArgument` naming the bad field. */
export function resolveOptions(options: GcsBackendOptions): ResolvedOptions {
  const chunkSize = integer(options, 'chunkSize', CHUNK_GRANULE, MAX_OBJECT_SIZE);
  if (chunkSize % CHUNK_GRANULE !== 0) throw invalid('chunkSize', 'must be a multiple of 262144 (256 KiB)');
  return {
    keyPrefix: dirPrefix(options.prefix ?? ''),
    resumableThreshold: integer(options, 'resumableThreshold', 0, MAX_OBJECT_SIZE),
    chunkSize,
    listPageSize: integer(options, 'listPageSize', 1, 1000),
  };
}

/**
 * The `Storage` settings for connection options: the SDK's own retries off (the store retries,
 * with one policy; `maxRetries: 0` would not do it, the SDK reads 0 as "use the default, 3"),
 * the inactivity timeout, the endpoint (the option, else `STORAGE_EMULATOR_HOST`), and the
 * credentials when given (else the SDK's Application Default Credentials).
 */
export function storageOptions(options: GcsConnectionOptions, env = process.env): StorageOptions {
  const endpoint = options.apiEndpoint ?? emulatorEndpoint(env.STORAGE_EMULATOR_HOST);
  const settings: StorageOptions = {
    retryOptions: { autoRetry: false, maxRetries: 1 },
    timeout: options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs,
  };
  if (endpoint !== undefined) settings.apiEndpoint = endpoint;
  if (options.projectId !== undefined) settings.projectId = options.projectId;
  if (options.keyFilename !== undefined) settings.keyFilename = options.keyFilename;
  if (options.credentials !== undefined) settings.credentials = options.credentials;
  return settings;
}

/**
 * `STORAGE_EMULATOR_HOST` as an API endpoint: the emulators' convention is a bare `host:port` or
 * a URL, sometimes ending in `/storage/v1` (the SDK adds that part itself).
 */
export function emulatorEndpoint(value: string | undefined): string | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const url = /^https?:\/\//.test(value) ? value : `http://${value}`;
  return url.replace(/\/+$/, '').replace(/\/storage\/v1$/, '');
}

type NumericField = keyof typeof DEFAULTS;

function integer(options: GcsCommonOptions, field: NumericField, min: number, max: number): number {
  const value = options[field] ?? DEFAULTS[field];
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function invalid(field: string, detail: string): StoreError {
  return new StoreError('InvalidArgument', `${field} ${detail}`, { operation: 'GcsBackend options' });
}
