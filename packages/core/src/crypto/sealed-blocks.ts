import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync } from 'node:crypto';
import { StoreError } from '../errors.js';

/**
 * The on-store form of an encrypted object: its plaintext cut into blocks of {@link BLOCK}
 * bytes (the last one shorter, an empty object one empty block), each stored as
 * `nonce (12 random bytes) | AES-256-GCM ciphertext | tag (16 bytes)`, no header. The key is the
 * object's own (derived from the data key and the object's name, `object-key.ts`); the additional
 * data is the block's index (u64 big-endian) and a byte that is 1 on the last block, so blocks
 * cannot be moved, reordered, dropped or the object cut at a block boundary unnoticed. A
 * plaintext byte range maps to whole stored blocks, so a ranged read stays one ranged read.
 */
export const BLOCK = 64 * 1024;
const NONCE = 12;
const TAG = 16;
/** Stored bytes a block adds to its plaintext. */
export const BLOCK_OVERHEAD = NONCE + TAG;
const STORED_BLOCK = BLOCK + BLOCK_OVERHEAD;

/** Blocks of a plaintext of `size` bytes (an empty one has one). */
export function blockCount(size: number): number {
  return Math.max(1, Math.ceil(size / BLOCK));
}

/** Stored bytes of a plaintext of `size` bytes. */
export function storedSize(size: number): number {
  return size + blockCount(size) * BLOCK_OVERHEAD;
}

/** Plaintext bytes of a stored object of `stored` bytes; undefined when no plaintext has that stored size. */
export function plainSize(stored: number): number | undefined {
  const blocks = Math.ceil(stored / STORED_BLOCK);
  const size = stored - blocks * BLOCK_OVERHEAD;
  return blocks > 0 && size >= 0 && storedSize(size) === stored ? size : undefined;
}

/** The stored range holding the plaintext bytes `[offset, end)` (`end` past the object is fine). */
export function storedRange(offset: number, end: number): { offset: number; length: number } {
  const first = Math.floor(offset / BLOCK);
  const last = Math.max(first, Math.ceil(end / BLOCK) - 1);
  return { offset: first * STORED_BLOCK, length: (last - first + 1) * STORED_BLOCK };
}

/** The additional data of block `index` (`last`: the object's last), written into `aad` (9 bytes, reused). */
function additionalData(aad: Buffer, index: number, last: boolean): Buffer {
  aad.writeUInt32BE(Math.floor(index / 2 ** 32), 0);
  aad.writeUInt32BE(index >>> 0, 4);
  aad[8] = last ? 1 : 0;
  return aad;
}

/**
 * Encrypts `plain` under `keyBytes` into `out` (at least `storedSize(plain.length)` bytes), which
 * becomes the stored object: each block's ciphertext goes straight where it is stored, between
 * its nonce and its tag. `out` may start where `plain` does, in the same memory: the object is
 * then sealed in place. Blocks are sealed from the last, so a block's stored bytes, which lie
 * past its plaintext, overwrite only plaintext already sealed.
 */
export function sealInto(keyBytes: Uint8Array, plain: Uint8Array, out: Uint8Array): void {
  const key = createSecretKey(keyBytes);
  const aad = Buffer.alloc(9);
  const blocks = blockCount(plain.length);
  const nonces = randomNonces(blocks);
  for (let i = blocks - 1; i >= 0; i--) {
    const at = i * STORED_BLOCK;
    const block = plain.subarray(i * BLOCK, (i + 1) * BLOCK);
    const nonce = nonces.subarray(i * NONCE, (i + 1) * NONCE);
    const cipher = createCipheriv('aes-256-gcm', key, nonce);
    cipher.setAAD(additionalData(aad, i, i === blocks - 1));
    const sealed = cipher.update(block);
    cipher.final();
    const tag = cipher.getAuthTag();
    out.set(nonce, at);
    out.set(sealed, at + NONCE);
    out.set(tag, at + NONCE + sealed.length);
    release(sealed);
  }
}

/**
 * Random nonces for `blocks` blocks, drawn at once: a call to the random source has a fixed cost
 * that outweighs the 12 bytes of one block's nonce.
 */
function randomNonces(blocks: number): Buffer {
  return randomFillSync(Buffer.allocUnsafe(blocks * NONCE));
}

/** `plain` encrypted under `key` as one stored object. */
export function sealBlocks(key: Uint8Array, plain: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(storedSize(plain.length));
  sealInto(key, plain, out);
  return out;
}

/**
 * Frees at once the memory of `output`, an output of `node:crypto`'s `update` that was copied
 * where it goes. node:crypto gives every output an ArrayBuffer of its own, which V8 would free
 * only at a collection, once tens of MiB of them had piled up outside its heap: memory, work for
 * the collector, and pages that the allocator hands back and faults in again. Transferring the
 * ArrayBuffer to an empty one frees its memory now and leaves `output` empty.
 */
function release(output: Buffer): void {
  const buffer = output.buffer as ArrayBuffer & { transfer(length: number): ArrayBuffer }; // ES2024
  if (output.byteOffset === 0 && buffer.byteLength === output.length) buffer.transfer(0);
}

/**
 * Decrypts the whole stored blocks of `stored` (the last may be short), the first of them block
 * `first` of an object of `blocks` blocks, and copies the plaintext that falls in `[from, to)`
 * to `out` (`out[0]` is plaintext byte `from`). Returns the index of the first block that does
 * not decrypt, else -1; nothing of a block is copied before its tag checked.
 */
export function openBlocksInto(
  keyBytes: Uint8Array,
  stored: Uint8Array,
  first: number,
  blocks: number,
  out: Uint8Array,
  from: number,
  to: number,
): number {
  const key = createSecretKey(keyBytes);
  const aad = Buffer.alloc(9);
  const count = Math.ceil(stored.length / STORED_BLOCK);
  for (let i = 0; i < count; i++) {
    const block = stored.subarray(i * STORED_BLOCK, (i + 1) * STORED_BLOCK);
    const index = first + i;
    if (block.length < BLOCK_OVERHEAD) return index;
    let plain: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, block.subarray(0, NONCE))
        .setAAD(additionalData(aad, index, index === blocks - 1))
        .setAuthTag(block.subarray(block.length - TAG));
      plain = decipher.update(block.subarray(NONCE, block.length - TAG));
      decipher.final();
    } catch {
      return index;
    }
    const start = index * BLOCK;
    const a = Math.max(start, from);
    const b = Math.min(start + plain.length, to);
    if (b > a) out.set(plain.subarray(a - start, b - start), a - from);
    release(plain);
  }
  return -1;
}

/** {@link openBlocksInto} of a whole batch into a new buffer (its plaintext from block `first` on), or the failed block's index. */
function openBatch(key: Uint8Array, stored: Uint8Array, first: number, blocks: number): Buffer | number {
  const count = Math.ceil(stored.length / STORED_BLOCK);
  const out = Buffer.allocUnsafe(Math.max(0, stored.length - count * BLOCK_OVERHEAD));
  const failed = openBlocksInto(key, stored, first, blocks, out, first * BLOCK, first * BLOCK + out.length);
  return failed < 0 ? out : failed;
}

/** Stored blocks decrypted at once: about 1 MiB. */
const BATCH_BLOCKS = 16;

/**
 * Decrypts stored blocks as they arrive, on this thread: `source` yields the stored bytes from
 * block `first` on, the object holding `blocks` blocks; yields the plaintext of each batch of
 * blocks once every tag in it checked, cut to `[from, to)` (plaintext offsets). A block that
 * fails its check, or a source that ends inside a block, fails with `Integrity` naming `name`.
 */
export async function* openBlocks(
  key: Uint8Array,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  first: number,
  blocks: number,
  from: number,
  to: number,
  name: string,
): AsyncGenerator<Buffer> {
  const batch = Buffer.allocUnsafe(BATCH_BLOCKS * STORED_BLOCK);
  let filled = 0;
  let next = first;
  function* open() {
    const plain = openBatch(key, batch.subarray(0, filled), next, blocks);
    if (typeof plain === 'number') throw damaged(name, plain);
    const start = next * BLOCK;
    next += Math.ceil(filled / STORED_BLOCK);
    filled = 0;
    const cut = plain.subarray(Math.max(0, from - start), Math.max(0, Math.min(plain.length, to - start)));
    if (cut.length > 0) yield cut;
  }
  for await (const piece of source) {
    for (let at = 0; at < piece.length; ) {
      const take = Math.min(batch.length - filled, piece.length - at);
      batch.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === batch.length) yield* open();
    }
  }
  if (filled > 0) yield* open();
  else if (next === first && first < blocks) throw damaged(name, first);
  if (next < blocks && next * BLOCK < to) throw damaged(name, next);
}

/** The stored bytes of `count` whole blocks. */
export function storedBlocks(count: number): number {
  return count * STORED_BLOCK;
}

/** The `Integrity` error of block `block` of object `key`. */
export function damaged(key: string, block: number): StoreError {
  return new StoreError(
    'Integrity',
    `block ${block} does not decrypt: the object is damaged, or was not written with this store's key`,
    { operation: 'decrypt', key },
  );
}
