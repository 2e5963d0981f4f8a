import { createCipheriv, createDecipheriv, createHmac, randomBytes, scrypt } from 'node:crypto';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import { BLOCK } from './sealed-blocks.js';

/**
 * A store's encryption parameters, kept in its record (`ckpt/store.json`): how the user's key
 * becomes the key-encryption key (scrypt over a salt of the store's), and the store's one random
 * data key wrapped by it (AES-256-GCM), under the id of the key that wrapped it. The data key is
 * never stored in plain text; rotating the user's key wraps it again (`rewrapDataKey`).
 */
export interface EncryptionParams {
  cipher: 'aes-256-gcm';
  /** Plaintext bytes per encrypted block (`sealed-blocks.ts`). */
  blockSize: number;
  kdf: { name: 'scrypt'; N: number; r: number; p: number; salt: string };
  /** The data key wrapped by each user key that opens the store. */
  keys: { id: string; wrapped: string }[];
}

const base64 = z.string().regex(/^[A-Za-z0-9+/]+=*$/);
export const encryptionShape = z.object({
  cipher: z.literal('aes-256-gcm'),
  blockSize: z.literal(BLOCK),
  kdf: z.object({
    name: z.literal('scrypt'),
    N: z
      .number()
      .int()
      .min(2 ** 14)
      .max(2 ** 20)
      .refine((n) => (n & (n - 1)) === 0, 'a power of two'),
    r: z.number().int().min(1).max(32),
    p: z.number().int().min(1).max(16),
    salt: base64,
  }),
  keys: z.array(z.object({ id: z.string().regex(/^[0-9a-f]{16}$/), wrapped: base64 })).min(1),
});

/** scrypt's cost: 32 MiB and about 0.1 s per open, once per process and store. */
const KDF = { name: 'scrypt', N: 2 ** 15, r: 8, p: 1 } as const;
/** The shortest user key accepted: a key any shorter is guessed, whatever the KDF. */
export const MIN_KEY_BYTES = 16;
const KEY_OP = 'encryption key';

/** A user key as given (an environment variable, a key file's bytes): checked, its file's last newline dropped. */
export function userKey(secret: string | Uint8Array, where: string): Buffer {
  let key = Buffer.from(secret);
  if (key.at(-1) === 0x0a) key = key.subarray(0, key.at(-2) === 0x0d ? -2 : -1);
  if (key.length < MIN_KEY_BYTES)
    throw keyError('InvalidArgument', `the encryption key (${where}) is shorter than ${MIN_KEY_BYTES} bytes`);
  return key;
}

/** New parameters for a store: a fresh salt and data key, wrapped by `key`. Returns the data key too. */
export async function newEncryption(key: Buffer): Promise<{ params: EncryptionParams; dataKey: Buffer }> {
  const dataKey = randomBytes(32);
  const kdf = { ...KDF, salt: randomBytes(16).toString('base64') };
  const entry = wrap(await keyEncryptionKey(key, kdf), dataKey);
  return { params: { cipher: 'aes-256-gcm', blockSize: BLOCK, kdf, keys: [entry] }, dataKey };
}

/** The store's data key, unwrapped with `key`; a key that wraps none of the store's fails with one clear line. */
export async function openDataKey(params: EncryptionParams, key: Buffer): Promise<Buffer> {
  const kek = await keyEncryptionKey(key, params.kdf);
  const id = keyId(kek);
  const entry = params.keys.find((k) => k.id === id);
  if (!entry) throw keyError('PermissionDenied', 'the encryption key does not open this store (wrong key)');
  const sealed = Buffer.from(entry.wrapped, 'base64');
  try {
    const decipher = createDecipheriv('aes-256-gcm', kek, sealed.subarray(0, 12))
      .setAAD(Buffer.from(`ckpt data key ${id}`))
      .setAuthTag(sealed.subarray(-16));
    const dataKey = Buffer.concat([decipher.update(sealed.subarray(12, -16)), decipher.final()]);
    if (dataKey.length !== 32) throw new Error('length');
    return dataKey;
  } catch {
    throw new StoreError('Integrity', `the wrapped data key of key ${id} is damaged`, {
      operation: KEY_OP,
      key: 'ckpt/store.json',
    });
  }
}

/**
 * The parameters with the data key wrapped by `newKey` in place of `oldKey`'s: nothing stored is
 * encrypted again, and the old key no longer opens the store.
 */
export async function rewrapDataKey(
  params: EncryptionParams,
  oldKey: Buffer,
  newKey: Buffer,
): Promise<EncryptionParams> {
  const dataKey = await openDataKey(params, oldKey);
  const oldId = keyId(await keyEncryptionKey(oldKey, params.kdf));
  const entry = wrap(await keyEncryptionKey(newKey, params.kdf), dataKey);
  return { ...params, keys: [...params.keys.filter((k) => k.id !== oldId && k.id !== entry.id), entry] };
}

/** The error of a missing, short or wrong key, or of a key given for a store that is not encrypted. */
export function keyError(code: 'InvalidArgument' | 'PermissionDenied', message: string): StoreError {
  return new StoreError(code, message, { operation: KEY_OP });
}

function keyEncryptionKey(key: Buffer, kdf: EncryptionParams['kdf']): Promise<Buffer> {
  const { N, r, p } = kdf;
  return new Promise((resolve, reject) =>
    scrypt(
      key,
      Buffer.from(kdf.salt, 'base64'),
      32,
      { N, r, p, maxmem: 256 * N * r + 1024 * 1024 },
      (err, kek) => (err ? reject(err) : resolve(kek)),
    ),
  );
}

/** Names a key-encryption key without revealing it (an HMAC of a constant). */
function keyId(kek: Buffer): string {
  return createHmac('sha256', kek).update('ckpt key id').digest('hex').slice(0, 16);
}

function wrap(kek: Buffer, dataKey: Buffer): { id: string; wrapped: string } {
  const id = keyId(kek);
  const nonce = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', kek, nonce).setAAD(Buffer.from(`ckpt data key ${id}`));
  const sealed = Buffer.concat([nonce, cipher.update(dataKey), cipher.final(), cipher.getAuthTag()]);
  return { id, wrapped: sealed.toString('base64') };
}
