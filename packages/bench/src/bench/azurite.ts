import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { startAzurite } from '@ckpt/test-servers';
import { type BenchServer, bucketName, storeBucketOps } from './bench-server.js';
import { importBeside } from './sdk.js';

/** The benchmark's Azurite, shared by ckpt, azcopy and rclone; buckets are containers. */
export interface BenchAzurite extends BenchServer {
  /** `http://127.0.0.1:<port>/devstoreaccount1` */
  blobEndpoint: string;
  /** The development account's connection string (ckpt's store). */
  connectionString: string;
  /** An account SAS (query string, no `?`) good for a day: what azcopy and rclone authenticate with. */
  sas: string;
}

/** The few parts of `@azure/storage-blob` that sign an account SAS. */
interface SasSdk {
  StorageSharedKeyCredential: new (account: string, key: string) => unknown;
  generateAccountSASQueryParameters(
    values: Record<string, unknown>,
    credential: unknown,
  ): { toString(): string };
  AccountSASPermissions: { parse(text: string): unknown };
  SASProtocol: { HttpsAndHttp: string };
}

/**
 * Starts Azurite through `@ckpt/test-servers` over `directory` (`--location`: blobs on disk, in
 * extent files under `__blobstorage__`, not per container).
 */
export async function startBenchAzurite(directory: string): Promise<BenchAzurite> {
  const azurite = await startAzurite({ directory });
  const { blobEndpoint, connectionString } = azurite;
  const sdk = await importBeside<SasSdk>('@ckpt/azure', '@azure/storage-blob');
  const sas = sdk
    .generateAccountSASQueryParameters(
      {
        expiresOn: new Date(Date.now() + 24 * 3600_000),
        permissions: sdk.AccountSASPermissions.parse('rwdlacup'),
        resourceTypes: 'sco',
        services: 'b',
        protocol: sdk.SASProtocol.HttpsAndHttp,
      },
      new sdk.StorageSharedKeyCredential(azurite.accountName, azurite.accountKey),
    )
    .toString();
  return {
    blobEndpoint,
    connectionString,
    sas,
    pid: azurite.pid,
    newBucket: (label) => azurite.createContainer(bucketName(label)),
    bucketPaths: () => [join(directory, '__blobstorage__')],
    ...storeBucketOps((container) => ({ kind: 'azure', container, connectionString })),
    async stop() {
      await azurite.stop();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
