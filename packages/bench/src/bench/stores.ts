import type { ObjectStore } from '@ckpt/core';
import type { StoreSpec } from './types.js';

/**
 * The store of `spec`. Its adapter package is loaded only when used, as the CLI does (each cloud
 * SDK is large), so a runner child's memory is that of its own backend.
 */
export async function openStore(spec: StoreSpec): Promise<ObjectStore> {
  switch (spec.kind) {
    case 'fs': {
      const { FsStore } = await import('@ckpt/fs');
      return new FsStore({ root: spec.root });
    }
    case 's3': {
      const [{ S3Store }, { s3StoreOptions }] = await Promise.all([import('@ckpt/s3'), import('./sdk.js')]);
      return new S3Store(s3StoreOptions(spec));
    }
    case 'gcs': {
      const { GcsStore } = await import('@ckpt/gcs');
      return new GcsStore({ bucket: spec.bucket, apiEndpoint: spec.apiEndpoint, projectId: spec.projectId });
    }
    case 'azure': {
      const { AzureStore } = await import('@ckpt/azure');
      return new AzureStore({ container: spec.container, connectionString: spec.connectionString });
    }
  }
}
