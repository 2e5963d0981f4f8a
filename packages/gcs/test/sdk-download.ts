import { buffer } from 'node:stream/consumers';
import type { File } from '@google-cloud/storage';
import { allowResponseListeners } from '../src/gcs-store.js';

/**
 * The object's bytes read with the plain SDK, bypassing GcsBackend (to see what really landed),
 * as `file.download()` reads them but without its MaxListenersExceededWarning.
 */
export function sdkDownload(file: File): Promise<Buffer> {
  const stream = file.createReadStream();
  allowResponseListeners(stream);
  return buffer(stream);
}
