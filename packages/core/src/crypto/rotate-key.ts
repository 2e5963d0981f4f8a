import type { ObjectStore } from '../store.js';
import { STORE_RECORD } from '../sync/layout.js';
import { readStoreRecord } from '../sync/store-record.js';
import { keyError, rewrapDataKey, userKey } from './key-hierarchy.js';

/**
 * Rotates an encrypted store's key: the store's data key, unwrapped with `key`, is wrapped by
 * `newKey` in its record, in place of `key`'s wrapping. Nothing else is read or written: packs and
 * manifests stay as they are (they are encrypted under the data key). Where the store enforces
 * conditional puts the record is replaced only if no one changed it meanwhile (`PreconditionFailed`).
 * A `Checkpoints` that opened the store before keeps working (it holds the data key); new ones need `newKey`.
 */
export async function rotateEncryptionKey(
  store: ObjectStore,
  keys: { key: string | Uint8Array; newKey: string | Uint8Array },
  options: { signal?: AbortSignal } = {},
): Promise<void> {
  const { signal } = options;
  const oldKey = userKey(keys.key, 'key');
  const newKey = userKey(keys.newKey, 'newKey');
  const version = store.capabilities.conditionalReplace
    ? (await store.head(STORE_RECORD, { signal }).catch(() => undefined))?.version
    : undefined;
  const record = await readStoreRecord(store, signal);
  if (!record?.encryption)
    throw keyError('InvalidArgument', 'the store is not encrypted: there is no key to rotate');
  const encryption = await rewrapDataKey(record.encryption, oldKey, newKey);
  const body = Buffer.from(`${JSON.stringify({ ...record, encryption })}\n`);
  await store.put(STORE_RECORD, body, {
    size: body.length,
    signal,
    ...(version === undefined ? {} : { mode: { update: version } }),
  });
}
