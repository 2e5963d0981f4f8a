import { availableParallelism } from 'node:os';
import { StoreError } from '../errors.js';
import { WorkerPool } from '../worker-pool.js';
import { sealBlocks } from './sealed-blocks.js';

/** Decrypting stored blocks in shared memory into shared memory (see `openBlocksInto`). */
export interface OpenJob {
  key: Uint8Array;
  /** The stored blocks: `length` bytes from `at`, the first of them block `first` of `blocks`. */
  stored: SharedArrayBuffer;
  at: number;
  length: number;
  first: number;
  blocks: number;
  /** Where plaintext byte `from` goes; only `[from, to)` is written. */
  out: SharedArrayBuffer;
  outAt: number;
  from: number;
  to: number;
}

/** What a crypto thread is asked (`data` moved to it). */
export type CryptoRequest = { op: 'seal'; key: Uint8Array; data: ArrayBuffer } | ({ op: 'open' } & OpenJob);
/** Its answer: the sealed object moved back, or the first block that did not decrypt (-1: none). */
export type CryptoReply = { data: ArrayBuffer } | { failedBlock: number };

/** Objects smaller than this are sealed on the calling thread: a round trip would cost more. */
const INLINE_BELOW = 256 * 1024;

/**
 * AES-GCM of encrypted objects on worker threads (core's `WorkerPool`), so that a transfer's
 * encryption runs beside its hashing and I/O instead of on the main thread. A thread starts when
 * a job needs one; an idle pool does not keep the process alive.
 */
export class CryptoWorkers {
  readonly #pool = new WorkerPool<CryptoRequest, CryptoReply>(
    new URL('./crypto-worker.js', import.meta.url),
    {
      threads: availableParallelism(),
      name: 'encryption worker',
    },
  );

  /** `plain` as its stored blocks (see `sealBlocks`); `plain` is copied (or sealed) before this returns, never moved. */
  async seal(key: Uint8Array, plain: Uint8Array): Promise<Buffer> {
    if (plain.length < INLINE_BELOW) return sealBlocks(key, plain);
    const data = new ArrayBuffer(plain.length);
    new Uint8Array(data).set(plain);
    const reply = await this.#pool.run({ op: 'seal', key, data }, { transfer: [data], operation: 'encrypt' });
    if (!('data' in reply)) throw new StoreError('Internal', 'the encryption worker answered no data');
    return Buffer.from(reply.data);
  }

  /** Decrypts `job` on a thread: the first block that does not decrypt, or -1. */
  async open(job: OpenJob): Promise<number> {
    const reply = await this.#pool.run({ op: 'open', ...job }, { operation: 'decrypt' });
    return 'failedBlock' in reply ? reply.failedBlock : -1;
  }

  close(): Promise<void> {
    return this.#pool.close();
  }
}
