import type { ObjectStore } from '../store.js';
import { MODELS } from '../sync/layout.js';
import type { StoreRecord } from '../sync/store-record.js';
import type { EncryptedStore } from './encrypted-store.js';
import { type EncryptionParams, keyError, newEncryption, openDataKey } from './key-hierarchy.js';

/**
 * What a store's record says against the key an instance was given: an encrypted store is never
 * read without its key, nor a plain one with a key (either would read or write the wrong form).
 * For an encrypted store the layer gets the data key as it is unwrapped (not awaited here: the
 * layer makes writes and sealed reads wait for it, see `EncryptedStore`). A store without a record
 * is plain when it holds a manifest; an empty one may become encrypted.
 */
export async function openEncryption(
  store: ObjectStore,
  record: StoreRecord | undefined,
  key: Buffer | undefined,
  layer: EncryptedStore | undefined,
  signal?: AbortSignal,
): Promise<void> {
  if (record?.encryption) {
    if (!key || !layer)
      throw keyError('PermissionDenied', 'the store is encrypted and no encryption key was given');
    layer.useDataKey(openDataKey(record.encryption, key));
  } else if (key && (record || (await holdsManifests(store, signal)))) {
    throw keyError('InvalidArgument', 'the store is not encrypted, but an encryption key was given');
  }
}

/** Encryption parameters for the first record of an empty store, the layer given their data key. */
export async function newStoreEncryption(
  store: ObjectStore,
  key: Buffer,
  layer: EncryptedStore,
  signal?: AbortSignal,
): Promise<EncryptionParams> {
  if (await holdsManifests(store, signal))
    throw keyError('InvalidArgument', 'the store is not encrypted, but an encryption key was given');
  const { params, dataKey } = await newEncryption(key);
  layer.useDataKey(dataKey);
  return params;
}

async function holdsManifests(store: ObjectStore, signal?: AbortSignal): Promise<boolean> {
  for await (const _ of store.list(MODELS, { signal })) return true;
  return false;
}
