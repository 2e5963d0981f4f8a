/**
 * The thread behind `CryptoWorkers` (crypto-workers.ts): seals placed plaintext in place (the
 * buffer moved here and back, never copied), or decrypts stored blocks in shared memory into
 * shared memory.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { parentPort } from 'node:worker_threads';
import type { CryptoReply, CryptoRequest } from './crypto-workers.js';
import { openBlocksInto, sealPlaced } from './sealed-blocks.js';

/** Bytes encrypted or decrypted between two minor collections (see `collectGarbage`). */
const COLLECT_EVERY = 8 * 1024 * 1024;
let sinceCollected = 0;
const minorGc = exposeGc();

parentPort?.on('message', (request: CryptoRequest) => {
  if (request.op === 'seal') {
    sealPlaced(request.key, new Uint8Array(request.data, 0, request.length), request.size);
    parentPort?.postMessage({ data: request.data } satisfies CryptoReply, [request.data]);
    collectGarbage(request.size);
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
  collectGarbage(length);
});

/**
 * node:crypto returns every block's output in a new 64 KiB buffer. Their JavaScript objects are
 * tiny, so V8 would collect them only once their memory outside the heap grew by its external
 * limit (tens of MiB per thread, all resident); a minor collection every few MiB keeps it small
 * and costs less than the page faults it saves.
 */
function collectGarbage(bytes: number): void {
  sinceCollected += bytes;
  if (sinceCollected < COLLECT_EVERY || !minorGc) return;
  sinceCollected = 0;
  minorGc({ type: 'minor' });
}

/** V8's `gc()` for this thread, turned on only while a context that has it is made. */
function exposeGc(): ((options: { type: 'minor' }) => void) | undefined {
  const existing = (globalThis as { gc?: (options: { type: 'minor' }) => void }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  try {
    return runInNewContext('gc');
  } finally {
    setFlagsFromString('--no-expose-gc');
  }
}
