/**
 * The thread behind `Md5Pool` (md5-pool.ts): hashes `scratch[offset, offset + length)` for each step it is sent and
 * answers `null`, or the base64 digest after the job's last step. It reads only its own scratch
 * buffer (shared with the pool), never a caller's body.
 */
import { createHash, type Hash } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import type { Md5Reply, Md5Step } from './md5-pool.js';

const scratch = new Uint8Array(workerData as SharedArrayBuffer);
let hash: Hash | undefined;

parentPort?.on('message', ({ offset, length, last }: Md5Step) => {
  hash ??= createHash('md5');
  hash.update(scratch.subarray(offset, offset + length));
  let reply: Md5Reply = null;
  if (last) {
    reply = hash.digest('base64');
    hash = undefined;
  }
  parentPort?.postMessage(reply);
});
