import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { findBinary, startAzurite, startFakeGcs, startMinio } from '../src/index.js';

const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('startMinio', () => {
  it('serves S3 on 127.0.0.1 with its own credentials; stop() ends it and removes its directory', async () => {
    const server = await startMinio();
    try {
      expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
      const bucket = await server.createBucket('given-name');
      expect(bucket).toBe('given-name');
      const client = new S3Client(server.clientConfig());
      try {
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: 'a/b', Body: 'hello' }));
        const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b' }));
        expect(await got.Body?.transformToString()).toBe('hello');
      } finally {
        client.destroy();
      }
      const stranger = new S3Client({
        ...server.clientConfig(),
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      await expect(stranger.send(new GetObjectCommand({ Bucket: bucket, Key: 'a/b' }))).rejects.toThrow();
      stranger.destroy();
    } finally {
      await server.stop();
    }
    expect(alive(server.pid)).toBe(false);
    expect(await exists(server.directory)).toBe(false);
    await server.stop(); // idempotent
  });

  it('keeps a given directory', async () => {
    const directory = await mkdtemp(join(tmpdir(), 'ckpt-minio-given-'));
    const server = await startMinio({ directory });
    await server.createBucket('kept');
    await server.stop();
    expect(await exists(join(directory, 'kept'))).toBe(true);
    await rm(directory, { recursive: true, force: true });
  });
});

describe('startFakeGcs', () => {
  it('serves the GCS JSON API in memory: a created bucket takes a media upload and reads back', async () => {
    const server = await startFakeGcs();
    try {
      const bucket = await server.createBucket();
      const upload = await fetch(
        `${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent('a/b')}`,
        { method: 'POST', body: 'hello' },
      );
      expect(upload.status).toBe(200);
      const object = (await upload.json()) as { name: string; size: string; generation: string };
      expect([object.name, object.size]).toEqual(['a/b', '5']);
      const media = await fetch(
        `${server.endpoint}/storage/v1/b/${bucket}/o/${encodeURIComponent('a/b')}?alt=media`,
      );
      expect(await media.text()).toBe('hello');
      // a create-only upload of an existing name is refused: preconditions are enforced
      const again = await fetch(
        `${server.endpoint}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=a%2Fb&ifGenerationMatch=0`,
        { method: 'POST', body: 'again' },
      );
      expect(again.status).toBe(412);
    } finally {
      await server.stop();
    }
    expect(alive(server.pid)).toBe(false);
  });

  it('with the filesystem backend, keeps objects under its directory and removes it on stop()', async () => {
    const server = await startFakeGcs({ backend: 'filesystem' });
    try {
      expect(server.directory).toBeDefined();
      const bucket = await server.createBucket('on-disk');
      expect(await exists(join(server.directory!, bucket))).toBe(true);
    } finally {
      await server.stop();
    }
    expect(await exists(server.directory!)).toBe(false);
  });
});

describe('startAzurite', () => {
  it('serves blobs for the development account; stop() ends it and removes its directory', async () => {
    const server = await startAzurite();
    try {
      expect(server.connectionString).toContain(`BlobEndpoint=${server.blobEndpoint};`);
      const container = await server.createContainer();
      // without the account's signature, the container is not readable
      const anonymous = await fetch(`${server.blobEndpoint}/${container}?restype=container&comp=list`);
      expect(anonymous.status).toBe(403);
      await expect(server.createContainer(container)).rejects.toThrow(/409/);
    } finally {
      await server.stop();
    }
    expect(alive(server.pid)).toBe(false);
    expect(await exists(server.directory)).toBe(false);
  });
});

describe('findBinary', () => {
  it('names the install script when a server is missing', async () => {
    await expect(findBinary('ckpt-no-such-server')).rejects.toThrow(/scripts\/install-test-tools\.sh/);
  });

  it('prefers $CKPT_TOOLS_DIR/bin to PATH, and falls back to PATH', async () => {
    const root = await mkdtemp(join(tmpdir(), 'ckpt-tools-test-'));
    const saved = { tools: process.env.CKPT_TOOLS_DIR, path: process.env.PATH };
    try {
      for (const dir of ['tools/bin', 'elsewhere']) {
        await mkdir(join(root, dir), { recursive: true });
        await writeFile(join(root, dir, 'ckpt-fake-server'), '#!/bin/sh\n', { mode: 0o755 });
      }
      await writeFile(join(root, 'elsewhere', 'ckpt-only-on-path'), '#!/bin/sh\n', { mode: 0o755 });
      process.env.CKPT_TOOLS_DIR = join(root, 'tools');
      process.env.PATH = `${join(root, 'elsewhere')}:${saved.path}`;
      expect(await findBinary('ckpt-fake-server')).toBe(join(root, 'tools/bin/ckpt-fake-server'));
      expect(await findBinary('ckpt-only-on-path')).toBe(join(root, 'elsewhere/ckpt-only-on-path'));
    } finally {
      process.env.PATH = saved.path;
      if (saved.tools === undefined) delete process.env.CKPT_TOOLS_DIR;
      else process.env.CKPT_TOOLS_DIR = saved.tools;
      await rm(root, { recursive: true, force: true });
    }
  });
});
