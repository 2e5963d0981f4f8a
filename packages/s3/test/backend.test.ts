import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type BackendStore, openStore, StoreError } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { useMinio } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { backend, S3Backend } from '../src/index.js';

const minio = useMinio({ credentialsInEnv: true });

describe('the s3 backend', () => {
  it('opens a store on an S3Backend from an s3:// URL whose objects a plain S3 client reads', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const prefix = `url/${randomUUID()}`;
    const query = `endpoint=${minio.server.endpoint}&forcePathStyle=true&checksums=when_required&conditionalWrites=true&partSize=5242880`;
    const store = await openStore(`s3://${minio.bucket}/${prefix}?${query}`, { registry });
    try {
      expect((store as BackendStore).backend).toBeInstanceOf(S3Backend);
      expect(store.name).toBe(`s3://${minio.bucket}/${prefix}`);
      expect(store.capabilities.conditionalCreate).toBe(true);
      await store.put('inventory.img', Buffer.from('inventory'));
      const out = await minio.client.send(
        new GetObjectCommand({ Bucket: minio.bucket, Key: `${prefix}/inventory.img` }),
      );
      expect(await out.Body?.transformToString()).toBe('inventory');
    } finally {
      await store.close?.();
    }
  });

  it('validates config objects with its schema', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const bad = await openStore({ type: 's3', bucket: minio.bucket, partSize: 1024 } as never, {
      registry,
    }).catch((e) => e);
    expect(StoreError.is(bad, 'InvalidArgument')).toBe(true);
    expect(String(bad.message)).toContain('partSize');
  });
});
