import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Checkpoints, openStore } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { type Minio, startMinio } from '@ckpt/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backend } from '../src/index.js';

const MiB = 1024 * 1024;
let server: Minio;
let bucket: string;
let work: string;
const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };

beforeAll(async () => {
  server = await startMinio();
  bucket = await server.createBucket();
  work = await mkdtemp(join(tmpdir(), 'ckpt-s3-e2e-'));
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
  if (work) await rm(work, { recursive: true, force: true });
});

/** A small CRIU-like directory: a pages file with zero runs, small images, a nested rootfs/. */
async function makeCheckpoint(dir: string): Promise<void> {
  await mkdir(join(dir, 'rootfs', 'cache'), { recursive: true });
  const pages = Buffer.alloc(24 * MiB);
  for (let offset = 0; offset < pages.length; offset += 2 * MiB) randomBytes(MiB).copy(pages, offset);
  await writeFile(join(dir, 'pages-1.img'), pages);
  for (const name of ['core-101.img', 'mm-101.img', 'inventory.img', 'pstree.img']) {
    await writeFile(join(dir, name), randomBytes(300 + name.length * 97));
  }
  await writeFile(join(dir, 'cuda_pids'), '101\n');
  await writeFile(join(dir, 'rootfs', 'cache', 'kernel.bin'), randomBytes(3 * MiB + 7));
}

/** Relative path → sha256 of every file under `dir`. */
async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    out[relative(dir, path)] = createHash('sha256')
      .update(await readFile(path))
      .digest('hex');
  }
  return out;
}

describe('checkpoints through an s3:// URL (MinIO)', () => {
  it('pushes a checkpoint directory and pulls it back byte-exact; a plain S3 client sees the objects', async () => {
    const registry = new BackendRegistry();
    registry.register(backend);
    const prefix = `e2e/${randomUUID()}`;
    const url = `s3://${bucket}/${prefix}?endpoint=${server.endpoint}&forcePathStyle=true&conditionalWrites=true`;
    const source = join(work, 'source');
    const target = join(work, 'target');
    await makeCheckpoint(source);

    const store = await openStore(url, { registry });
    const checkpoints = new Checkpoints(store, { threads: 1 });
    try {
      const pushed = await checkpoints.push('llama-8b', source);
      expect(pushed.files).toBe(7);
      const pulled = await checkpoints.pull('llama-8b', target);
      expect(pulled.upToDate).toBe(false);
    } finally {
      await checkpoints.close();
      await store.close?.();
    }
    expect(await digests(target)).toEqual(await digests(source));

    const raw = new S3Client(server.clientConfig());
    try {
      const listed = await raw.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }));
      expect(listed.KeyCount).toBeGreaterThan(0);
      expect(listed.Contents?.every((object) => object.Key?.startsWith(`${prefix}/`))).toBe(true);
    } finally {
      raw.destroy();
    }
  });
});
