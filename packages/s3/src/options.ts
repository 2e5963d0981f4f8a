import type { S3Client } from '@aws-sdk/client-s3';
import { StoreError } from '@ckpt/core';
import { dirPrefix } from '@ckpt/core/backend';

const MiB = 1024 * 1024;

/** S3's smallest part (every part but the last). */
export const MIN_PART_SIZE = 5 * MiB;
/** S3's largest part, and its largest single PUT. */
export const MAX_PART_SIZE = 5 * 1024 * MiB;
/** S3's most parts in one multipart upload. */
export const MAX_PARTS = 10_000;
/** S3's largest object (5 TiB). */
export const MAX_OBJECT_SIZE = 5 * 1024 * 1024 * MiB;

/** Defaults: 8 MiB parts, single PUT up to 16 MiB, 4 parts in flight (≤ 32 MiB buffered per put). */
export const DEFAULTS = Object.freeze({
  partSize: 8 * MiB,
  multipartThreshold: 16 * MiB,
  concurrency: 4,
  listPageSize: 1000,
});

/** Defaults of the client a store builds: one attempt (the engine retries), connect and request timeouts. */
export const CLIENT_DEFAULTS = Object.freeze({
  maxAttempts: 1,
  connectTimeoutMs: 10_000,
  timeoutMs: 60_000,
});

/** Options shared by both ways of building an {@link S3Store}. */
export interface S3StoreCommonOptions {
  /** The bucket. Must exist. */
  bucket: string;
  /** Key prefix inside the bucket (`models/llama`): the store only sees keys under `prefix/`. */
  prefix?: string;
  /**
   * The server enforces `If-None-Match: *` and `If-Match` on PutObject and CompleteMultipartUpload
   * (AWS S3, MinIO, R2 do; s3rver ignores them). Sets `capabilities.conditionalCreate` and
   * `conditionalReplace`. Default: true for AWS endpoints, false for a custom `endpoint`.
   */
  conditionalWrites?: boolean;
  /**
   * The server lists a key beside the keys below it (`a` and `a/b`), as AWS S3 does. Default true.
   * MinIO keeps each key as a folder on its drives: once `a` exists, a listing no longer shows the
   * keys under `a/` (they stay readable), so declare false there. Sets `capabilities.keyIsAlsoPrefix`.
   */
  keyIsAlsoPrefix?: boolean;
  /**
   * Multipart part size in bytes, 5 MiB–5 GiB. Default 8 MiB. Grown automatically when a put's
   * `size` is known and 10,000 parts would not cover it. A stream of unknown size can hold at most
   * 10,000 parts of this size (78 GiB with the default): pass `size` for larger objects.
   */
  partSize?: number;
  /**
   * Bodies up to this many bytes are sent as one PutObject; longer ones as a multipart upload.
   * Default 16 MiB, at most 5 GiB. A stream is buffered up to this size to decide.
   */
  multipartThreshold?: number;
  /** Parts uploaded in parallel by one put; also the most parts buffered in memory. Default 4. */
  concurrency?: number;
  /** Keys per ListObjectsV2 page, 1–1000. Default 1000 (tests use small pages). */
  listPageSize?: number;
}

/** Static credentials. Leave them out to use the SDK's default chain (env, profile, IMDS, …). */
export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Build the S3Client from these settings (mirrors core's `s3` config). */
export interface S3StoreConnectionOptions extends S3StoreCommonOptions {
  /** AWS region. Default: the SDK's chain (`AWS_REGION`, profile); `us-east-1` with a custom endpoint. */
  region?: string;
  /** An S3-compatible server, e.g. `http://127.0.0.1:4568` (MinIO, R2, Ceph RGW, s3rver). */
  endpoint?: string;
  /** `https://host/bucket/key` instead of `https://bucket.host/key`. Most custom endpoints need it. */
  forcePathStyle?: boolean;
  credentials?: S3Credentials;
  /**
   * `'when_supported'` (default): the SDK adds a CRC32 checksum to every upload and validates
   * checksums on download. `'when_required'`: the store sends Content-MD5 instead and the SDK
   * adds checksums only where the API demands them. Use it for servers without the `aws-chunked`
   * trailer protocol (s3rver stores the framing bytes as data under the default mode).
   */
  checksums?: 'when_supported' | 'when_required';
  /**
   * Attempts per request, retries included. Default 1: the engine retries (`Checkpoints` wraps its
   * store in one retry policy); the SDK's own retries on top would multiply the attempts.
   */
  maxAttempts?: number;
  /**
   * Milliseconds to establish a connection before the request fails (retryable): a shorter bound
   * than {@link timeoutMs} on connecting alone. Default 10 s.
   */
  connectTimeoutMs?: number;
  /**
   * Milliseconds a request may go without an answer, or a body without progress (no byte sent or
   * received), before it fails with a retryable `Unavailable`: a server that accepts a connection
   * and never answers cannot hang a call. Large transfers are not cut while bytes flow. From 1 ms
   * to a day; default 60 s.
   */
  timeoutMs?: number;
}

/**
 * A ready client (your own credentials, middleware, HTTP agent). The store never destroys it.
 * Its `requestChecksumCalculation` decides between CRC32 and Content-MD5 uploads.
 */
export interface S3StoreClientOptions extends S3StoreCommonOptions {
  client: S3Client;
}

/** Options of {@link S3Store}: either a ready `client`, or the settings to build one. */
export type S3BackendOptions = S3StoreClientOptions | S3StoreConnectionOptions;

/** Validated options with every default filled in. */
export interface ResolvedOptions {
  bucket: string;
  /** `''` or a prefix ending with `/`. */
  keyPrefix: string;
  conditionalWrites: boolean;
  keyIsAlsoPrefix: boolean;
  partSize: number;
  multipartThreshold: number;
  concurrency: number;
  listPageSize: number;
}

/** Validates `options` and fills in defaults; throws `InvalidArgument` naming the bad field. */
export function resolveOptions(options: S3BackendOptions, customEndpoint: boolean): ResolvedOptions {
  if (typeof options.bucket !== 'string' || !/^[a-z0-9][a-z0-9.\-_]{1,254}$/i.test(options.bucket)) {
    throw invalid('bucket', 'must be a bucket name');
  }
  const resolved: ResolvedOptions = {
    bucket: options.bucket,
    keyPrefix: dirPrefix(options.prefix ?? ''),
    conditionalWrites: options.conditionalWrites ?? !customEndpoint,
    keyIsAlsoPrefix: options.keyIsAlsoPrefix ?? true,
    partSize: integer(options, 'partSize', MIN_PART_SIZE, MAX_PART_SIZE),
    multipartThreshold: integer(options, 'multipartThreshold', 0, MAX_PART_SIZE),
    concurrency: integer(options, 'concurrency', 1, 1024),
    listPageSize: integer(options, 'listPageSize', 1, 1000),
  };
  return resolved;
}

/** True when `endpoint` is not an AWS one (its host does not end with `amazonaws.com`). */
export function isCustomEndpoint(endpoint: string | undefined): boolean {
  if (endpoint === undefined) return false;
  try {
    return !/(^|\.)amazonaws\.com(\.cn)?$/.test(new URL(endpoint).hostname);
  } catch {
    throw invalid('endpoint', 'must be a URL');
  }
}

type NumericField = keyof typeof DEFAULTS;

function integer(options: S3BackendOptions, field: NumericField, min: number, max: number): number {
  const value = options[field] ?? DEFAULTS[field];
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw invalid(field, `must be an integer from ${min} to ${max}`);
  }
  return value;
}

function invalid(field: string, detail: string): StoreError {
  return new StoreError('InvalidArgument', `${field} ${detail}`, { operation: 'S3Store options' });
}
