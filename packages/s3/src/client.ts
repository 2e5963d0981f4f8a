import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { CLIENT_DEFAULTS, isCustomEndpoint, type S3BackendOptions } from './options.js';

/** The SDK client a store talks through, and whether the store owns (and so destroys) it. */
export interface ClientHandle {
  client: S3Client;
  owned: boolean;
  /** The endpoint is not AWS (decides the `conditionalWrites` default). */
  customEndpoint: boolean;
  /** How uploads are protected: the SDK's CRC32 (`'crc32'`) or our Content-MD5 (`'md5'`). */
  checksum(): Promise<'crc32' | 'md5'>;
  /** The request timeout of a client the store built (a caller's client keeps its own, unknown). */
  timeoutMs?: number;
}

/**
 * Returns the caller's client (`options.client`) or builds one from the connection options.
 * Credentials come from `options.credentials` or, when absent, the SDK's default chain.
 */
export function openClient(options: S3BackendOptions): ClientHandle {
  if ('client' in options) {
    const { client } = options;
    let mode: Promise<'crc32' | 'md5'> | undefined;
    return {
      client,
      owned: false,
      customEndpoint: client.config.isCustomEndpoint === true,
      checksum: () => {
        mode ??= Promise.resolve(client.config.requestChecksumCalculation()).then(toMode);
        return mode;
      },
    };
  }
  const customEndpoint = isCustomEndpoint(options.endpoint);
  const whenRequired = options.checksums === 'when_required';
  const timeoutMs = options.timeoutMs ?? CLIENT_DEFAULTS.timeoutMs;
  const config: S3ClientConfig = {
    region: options.region ?? (customEndpoint ? 'us-east-1' : undefined),
    endpoint: options.endpoint,
    forcePathStyle: options.forcePathStyle,
    credentials: options.credentials,
    maxAttempts: options.maxAttempts ?? CLIENT_DEFAULTS.maxAttempts,
    requestHandler: {
      connectionTimeout: options.connectTimeoutMs ?? CLIENT_DEFAULTS.connectTimeoutMs,
      requestTimeout: timeoutMs,
      // without it the SDK only logs a warning and the request waits on
      throwOnRequestTimeout: true,
    },
    requestChecksumCalculation: whenRequired ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
    responseChecksumValidation: whenRequired ? 'WHEN_REQUIRED' : 'WHEN_SUPPORTED',
  };
  const mode = whenRequired ? 'md5' : 'crc32';
  return { client: new S3Client(config), owned: true, customEndpoint, checksum: async () => mode, timeoutMs };
}

function toMode(calculation: string): 'crc32' | 'md5' {
  return calculation === 'WHEN_REQUIRED' ? 'md5' : 'crc32';
}
