import { randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type BackendStore, openStore, StoreError } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { type Minio, startMinio } from '@ckpt/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend, S3Backend } from '../src/index.js';

let server: Minio;
let bucket: string;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  server = await startMinio();
  bucket = await server.createBucket();
  // credentials never come from a URL: the SDK's default chain reads them from the environment
  process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
});
afterAll(async () => {
  for (const [name, value] of [
    ['AWS_ACCESS_KEY_ID', saved.id],
    ['AWS_SECRET_ACCESS_KEY', saved.secret],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await server?.stop();
});

describe('the s3 backend', () => {
  it('opens a store on an S3Backend from an s3:// URL whose objects a plain S3 client reads', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const prefix = `url/${randomUUID()}`;
    const query = `endpoint=${server.endpoint}&forcePathStyle=true&checksums=when_required&conditionalWrites=true&partSize=5242880`;
    const store = await openStore(`s3://${bucket}/${prefix}?${query}`, { registry });
    try {
      expect((store as BackendStore).backend).toBeInstanceOf(S3Backend);
      expect(store.name).toBe(`s3://${bucket}/${prefix}`);
      expect(store.capabilities.conditionalCreate).toBe(true);
      await store.put('inventory.img', Buffer.from('inventory'));
      const raw = new S3Client(server.clientConfig());
      const out = await raw.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}/inventory.img` }));
      expect(await out.Body?.transformToString()).toBe('inventory');
      raw.destroy();
    } finally {
      await store.close?.();
    }
  });

  it('validates config objects with its schema', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const bad = await openStore({ type: 's3', bucket: bucket, partSize: 1024 } as never, { registry }).catch(
      (e) => e,
    );
    expect(StoreError.is(bad, 'InvalidArgument')).toBe(true);
    expect(String(bad.message)).toContain('partSize');
  });
});
