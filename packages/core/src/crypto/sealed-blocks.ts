import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
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

function additionalData(index: number, last: boolean): Buffer {
  const aad = Buffer.alloc(9);
  aad.writeBigUInt64BE(BigInt(index));
  aad[8] = last ? 1 : 0;
  return aad;
}

/** `plain` encrypted under `key` as one stored object. */
export function sealBlocks(key: Buffer, plain: Uint8Array): Buffer {
  const blocks = blockCount(plain.length);
  const out = Buffer.allocUnsafe(storedSize(plain.length));
  for (let i = 0; i < blocks; i++) {
    const part = plain.subarray(i * BLOCK, (i + 1) * BLOCK);
    const at = i * STORED_BLOCK;
    const nonce = randomBytes(NONCE);
    nonce.copy(out, at);
    const cipher = createCipheriv('aes-256-gcm', key, nonce).setAAD(additionalData(i, i === blocks - 1));
    let end = at + NONCE;
    end += cipher.update(part).copy(out, end);
    end += cipher.final().copy(out, end);
    cipher.getAuthTag().copy(out, end);
  }
  return out;
}

/**
 * Decrypts stored blocks as they arrive: `source` yields the stored bytes from block `first` on,
 * the object holding `blocks` blocks; yields the plaintext of each block once its tag checked,
 * cut to `[from, to)` (plaintext offsets). A block that fails its check, or a source that ends
 * inside a block, fails with `Integrity` naming `key`.
 */
export async function* openBlocks(
  key: Buffer,
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  first: number,
  blocks: number,
  from: number,
  to: number,
  name: string,
): AsyncGenerator<Buffer> {
  const block = Buffer.allocUnsafe(STORED_BLOCK);
  let filled = 0;
  let index = first;
  const open = (length: number): Buffer | undefined => {
    if (length < BLOCK_OVERHEAD) throw damaged(name, index);
    const decipher = createDecipheriv('aes-256-gcm', key, block.subarray(0, NONCE))
      .setAAD(additionalData(index, index === blocks - 1))
      .setAuthTag(block.subarray(length - TAG, length));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(block.subarray(NONCE, length - TAG)), decipher.final()]);
    } catch {
      throw damaged(name, index);
    }
    const start = index * BLOCK;
    index++;
    const cut = plain.subarray(Math.max(0, from - start), Math.max(0, Math.min(plain.length, to - start)));
    return cut.length > 0 ? cut : undefined;
  };
  for await (const piece of source) {
    let at = 0;
    while (at < piece.length) {
      const take = Math.min(STORED_BLOCK - filled, piece.length - at);
      block.set(piece.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === STORED_BLOCK) {
        filled = 0;
        const plain = open(STORED_BLOCK);
        if (plain) yield plain;
      }
    }
  }
  if (filled > 0 || index < Math.min(blocks, first + 1)) {
    const plain = open(filled);
    if (plain) yield plain;
  }
  if (index < blocks && index * BLOCK < to) throw damaged(name, index);
}

function damaged(key: string, block: number): StoreError {
  return new StoreError(
    'Integrity',
    `block ${block} does not decrypt: the object is damaged, or was not written with this store's key`,
    { operation: 'decrypt', key },
  );
}
