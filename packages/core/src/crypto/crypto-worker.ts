/**
 * The thread behind `CryptoWorkers` (crypto-workers.ts): seals a plaintext into its stored blocks
 * (the result moved back, not copied), or decrypts stored blocks in shared memory into shared
 * memory.
 */
import { parentPort } from 'node:worker_threads';
import type { CryptoReply, CryptoRequest } from './crypto-workers.js';
import { openBlocksInto, sealBlocks } from './sealed-blocks.js';

parentPort?.on('message', (request: CryptoRequest) => {
  if (request.op === 'seal') {
    const sealed = sealBlocks(request.key, Buffer.from(request.data));
    const data = ownMemory(sealed);
    parentPort?.postMessage({ data } satisfies CryptoReply, [data]);
    return;
  }
  const { key, stored, at, length, first, blocks, out, outAt, from, to } = request;
  const failedBlock = openBlocksInto(
    key,
    new Uint8Array(stored, at, length),
    first,
    blocks,
    new Uint8Array(out, outAt, to - from),
    from,
    to,
  );
  parentPort?.postMessage({ failedBlock } satisfies CryptoReply);
});

/** The bytes in an ArrayBuffer of their own (a pooled Buffer's cannot be moved). */
function ownMemory(bytes: Buffer): ArrayBuffer {
  if (
    bytes.byteOffset === 0 &&
    bytes.byteLength === bytes.buffer.byteLength &&
    bytes.buffer instanceof ArrayBuffer
  )
    return bytes.buffer;
  const own = new ArrayBuffer(bytes.length);
  new Uint8Array(own).set(bytes);
  return own;
}
