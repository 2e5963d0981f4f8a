import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { Checkpoints, openStore } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { makeCheckpoint, readTree, useMinio, useTempDir } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

const minio = useMinio({ credentialsInEnv: true });
const tempDir = useTempDir('ckpt-s3-e2e-', 'file');

describe('checkpoints through an s3:// URL (MinIO)', () => {
  it('pushes a checkpoint directory and pulls it back byte-exact; a plain S3 client sees the objects', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const prefix = `e2e/${randomUUID()}`;
    const url = `s3://${minio.bucket}/${prefix}?endpoint=${minio.server.endpoint}&forcePathStyle=true&conditionalWrites=true`;
    const work = await tempDir();
    const source = join(work, 'source');
    const target = join(work, 'target');
    // pages scaled up so that the push writes several packs
    await makeCheckpoint(source, { pagesScale: 4 });

    const store = await openStore(url, { registry });
    const checkpoints = new Checkpoints(store, { threads: 1 });
    try {
      const pushed = await checkpoints.push('llama-8b', source);
      expect(pushed.files).toBe(27);
      const pulled = await checkpoints.pull('llama-8b', target);
      expect(pulled.upToDate).toBe(false);
    } finally {
      await checkpoints.close();
      await store.close?.();
    }
    expect(await readTree(target)).toEqual(await readTree(source));

    const listed = await minio.client.send(
      new ListObjectsV2Command({ Bucket: minio.bucket, Prefix: `${prefix}/` }),
    );
    expect(listed.KeyCount).toBeGreaterThan(0);
    expect(listed.Contents?.every((object) => object.Key?.startsWith(`${prefix}/`))).toBe(true);
  });
});
