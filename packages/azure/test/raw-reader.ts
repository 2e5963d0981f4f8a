import type { ContainerClient } from '@azure/storage-blob';
import type { RawReader } from '@ckpt/testkit';

/**
 * Reads a container prefix with plain SDK calls, bypassing AzureBackend, so tests see what really
 * landed; uncommitted blobs (blocks staged, never committed) are listed too. `prefix` is the
 * store's key prefix, without a trailing `/`.
 */
export function azureRawReader(container: ContainerClient, prefix: string): RawReader {
  const root = `${prefix}/`;
  return {
    async read(key) {
      const blob = container.getBlobClient(root + key);
      try {
        return await blob.downloadToBuffer();
      } catch (err) {
        if ((err as { statusCode?: number }).statusCode === 404) return undefined;
        throw err;
      }
    },
    async keys() {
      const keys: string[] = [];
      for await (const item of container.listBlobsFlat({ prefix: root, includeUncommitedBlobs: true })) {
        keys.push(item.name.slice(root.length));
      }
      return keys.sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    },
  };
}
