import { availableParallelism } from 'node:os';
import { StoreError } from '../errors.js';
import { WorkerPool } from '../worker-pool.js';
import { storedSize } from './sealed-blocks.js';

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

/**
 * What a crypto thread is asked: to seal in place the `size` plaintext bytes placed in the first
 * `length` bytes of `data` (moved to it and back, see `placeBlocks`), or to decrypt.
 */
export type CryptoRequest =
  | { op: 'seal'; key: Uint8Array; data: ArrayBuffer; length: number; size: number }
  | ({ op: 'open' } & OpenJob);
/** Its answer: the sealed buffer moved back, or the first block that did not decrypt (-1: none). */
export type CryptoReply = { data: ArrayBuffer } | { failedBlock: number };

/**
 * AES-GCM of encrypted objects on worker threads (core's `WorkerPool`), so that a transfer's
 * encryption runs beside its hashing and I/O instead of on the main thread. A thread starts when
 * a job needs one; an idle pool does not keep the process alive.
 */
export class CryptoWorkers {
  readonly #pool = new WorkerPool<CryptoRequest, CryptoReply>(
    new URL('./crypto-worker.js', import.meta.url),
    {
      threads: Math.max(1, Math.floor(availableParallelism() / 2)),
      name: 'encryption worker',
    },
  );

  /**
   * Seals on a thread the `size` plaintext bytes placed in `data` (see `placeBlocks`), its first
   * `storedSize(size)` bytes becoming the stored object: `data` is moved to the thread and back
   * (the answer), never copied.
   */
  async seal(key: Uint8Array, data: ArrayBuffer, size: number): Promise<ArrayBuffer> {
    const request = { op: 'seal', key, data, length: storedSize(size), size } as const;
    const reply = await this.#pool.run(request, { transfer: [data], operation: 'encrypt' });
    if (!('data' in reply)) throw new StoreError('Internal', 'the encryption worker answered no data');
    return reply.data;
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
