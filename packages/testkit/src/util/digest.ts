import { createHash } from 'node:crypto';

/** sha256 (hex) and length of a stream, read chunk by chunk. `onChunk` sees every chunk's size. */
export async function digestStream(
  source: AsyncIterable<Uint8Array>,
  onChunk?: (bytes: number) => void,
): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const chunk of source) {
    hash.update(chunk);
    bytes += chunk.byteLength;
    onChunk?.(chunk.byteLength);
  }
  return { sha256: hash.digest('hex'), bytes };
}
