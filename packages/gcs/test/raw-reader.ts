import type { RawReader } from '@ckpt/testkit';
import type { Bucket } from '@google-cloud/storage';
import { sdkDownload } from './sdk-download.js';

/**
 * Reads a bucket prefix with plain SDK calls (download, getFiles), bypassing GcsBackend, so tests
 * see what really landed. `prefix` is the store's key prefix, without a trailing `/`.
 */
export function gcsRawReader(bucket: Bucket, prefix: string): RawReader {
  const root = `${prefix}/`;
  return {
    async read(key) {
      try {
        const bytes = await sdkDownload(bucket.file(root + key));
        return new Uint8Array(bytes);
      } catch (err) {
        if ((err as { code?: unknown }).code === 404) return undefined;
        throw err;
      }
    },
    async keys() {
      const [files] = await bucket.getFiles({ prefix: root });
      return files
        .map((file) => file.name.slice(root.length))
        .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    },
  };
}
