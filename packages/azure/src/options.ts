import type { ContainerClient } from '@azure/storage-blob';
import { StoreError } from '@ckpt/core';
import { dirPrefix } from '@ckpt/core/backend';

const MiB = 1024 * 1024;

/** Azure's most blocks in one block blob. */
export const MAX_BLOCKS = 50_000;
/** Azure's largest block (4000 MiB). */
export const MAX_BLOCK_SIZE = 4000 * MiB;
/** Azure's largest block blob (50,000 blocks of 4000 MiB). */
export const MAX_OBJECT_SIZE = MAX_BLOCKS * MAX_BLOCK_SIZE;
/** Azure's largest single Put Blob (5000 MiB). */
export const MAX_SINGLE_PUT = 5000 * MiB;

/** Defaults: 8 MiB blocks, one Put Blob up to 16 MiB, 4 blocks in flight (≤ 40 MiB buffered per put). */
export const DEFAULTS = Object.freeze({
  blockSize: 8 * MiB,
  singleUploadThreshold: 16 * MiB,
  concurrency: 4,
  listPageSize: 5000,
  timeoutMs: 60_000,
});

/** Options shared by both ways of building an {@link AzureBackend}. */
export interface AzureCommonOptions {
  /** Key prefix inside the container (`models/llama`): the store only sees keys under `prefix/`. */
  prefix?: string;
  /**
   * Block size in bytes, 1 B–4000 MiB. Default 8 MiB. Grown so 50,000 blocks cover a put's known
   * `size`; a stream of unknown size can hold 50,000 blocks of this size (390 GiB by default).
   */
  blockSize?: number;
  /** Bodies up to this many bytes go in one Put Blob; longer ones as staged blocks. Default 16 MiB. */
  singleUploadThreshold?: number;
  /** Blocks staged in parallel by one put; also the most blocks buffered. Default 4. */
  concurrency?: number;
  /** Blobs per List Blobs page, 1–5000. Default 5000 (tests use small pages). */
  listPageSize?: number;
  /**
   * Milliseconds a request may wait for the answer to begin (connection, upload of its body
   * included), and a download body may stay silent, before it fails with a retryable
   * `Unavailable`: a server that never answers cannot hang a call. Default 60 s.
   */
  timeoutMs?: number;
}

/** Settings to build the container client from (mirrors the `azure` config). */
export interface AzureConnectionOptions extends AzureCommonOptions {
  /** The container. Must exist. */
  container: string;
  /** Storage account name; needed unless a connection string names it. */
  account?: string;
  /** Blob endpoint, e.g. `http://127.0.0.1:10000/devstoreaccount1`. Default `https://<account>.blob.core.windows.net`. */
  endpoint?: string;
  /** A connection string (else `AZURE_STORAGE_CONNECTION_STRING`). Secret. */
  connectionString?: string;
  /** A SAS token, with or without its leading `?` (else `AZURE_STORAGE_SAS_TOKEN`). Secret. */
  sasToken?: string;
  /** Where credentials are read from; default `process.env` (tests pass their own). */
  env?: Record<string, string | undefined>;
}

/** A ready `ContainerClient` (its credentials and pipeline are yours; the store never changes them). */
export interface AzureClientOptions extends AzureCommonOptions {
  containerClient: ContainerClient;
}

/** Options of {@link AzureBackend}: a ready `containerClient`, or the settings to build one. */
export type AzureBackendOptions = AzureClientOptions | AzureConnectionOptions;

/** Validated options with every default filled in. */
export interface ResolvedOptions {
  /** `''` or a prefix ending with `/`. */
  keyPrefix: string;
  blockSize: number;
  singleUploadThreshold: number;
  concurrency: number;
  listPageSize: number;
  timeoutMs: number;
}

/** Validates `options` and fills in defaults; throws `InvalidArgument` naming the bad field. */
export function resolveOptions(options: AzureBackendOptions): ResolvedOptions {
  return {
    keyPrefix: dirPrefix(options.prefix ?? ''),
    blockSize: integer(options, 'blockSize', 1, MAX_BLOCK_SIZE),
    singleUploadThreshold: integer(options, 'singleUploadThreshold', 0, MAX_SINGLE_PUT),
    concurrency: integer(options, 'concurrency', 1, 1024),
    listPageSize: integer(options, 'listPageSize', 1, 5000),
    timeoutMs: integer(options, 'timeoutMs', 1, 24 * 3600 * 1000),
  };
}

/**
 * The block size for an object of `size` bytes: `configured`, grown (in whole MiB) just enough
 * that {@link MAX_BLOCKS} blocks cover it. Unknown size keeps `configured`.
 */
export function chooseBlockSize(configured: number, size?: number): number {
  if (size === undefined || size <= configured * MAX_BLOCKS) return configured;
  return Math.min(Math.ceil(size / MAX_BLOCKS / MiB) * MiB, MAX_BLOCK_SIZE);
}

type NumericField = keyof typeof DEFAULTS;

function integer(options: AzureBackendOptions, field: NumericField, min: number, max: number): number {
  const value = options[field] ?? DEFAULTS[field];
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new StoreError('InvalidArgument', `${field} must be an integer from ${min} to ${max}`, {
      operation: 'AzureStore options',
    });
  }
  return value;
}
