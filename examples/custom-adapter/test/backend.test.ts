import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BackendStore, openStore, registerBackend, StoreError, validateStoreConfig } from '@ckpt/core';
import { afterAll, describe, expect, it } from 'vitest';
import { backend, type KvConfig, type KvDirBackend } from '../src/index.js';

registerBackend(backend);
const dir = await mkdtemp(join(tmpdir(), 'ckpt-kv-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('the kv backend', () => {
  it('opens a store on a KvDirBackend from a kv:// URL and from a config object', async () => {
    const fromUrl = await openStore(`kv://${dir}/a`);
    const config: KvConfig = { type: 'kv', dir: `${dir}/b` };
    const fromConfig = await openStore(config);
    expect(fromUrl).toBeInstanceOf(BackendStore);
    expect(fromUrl.name).toBe(`kv://${dir}/a`);
    expect(((fromConfig as BackendStore).backend as KvDirBackend).dir).toBe(`${dir}/b`);
  });

  it('rejects a relative dir, an unknown field and a URL with a host', async () => {
    const invalid = (run: () => unknown) =>
      expect(Promise.resolve().then(run)).rejects.toSatisfy((e) => StoreError.is(e, 'InvalidArgument'));
    await invalid(() => validateStoreConfig({ type: 'kv', dir: 'relative/dir' }));
    await invalid(() => validateStoreConfig({ type: 'kv', dir: '/x', colour: 'blue' }));
    await invalid(() => openStore('kv://somehost/x'));
  });
});
