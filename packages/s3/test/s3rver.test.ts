import { access, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { S3Store } from '../src/index.js';
import { startS3rver } from '../src/s3rver.js';

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

describe('@ckpt/s3/s3rver', () => {
  it('serves a store over a given directory, and stop() ends the process but keeps the data', async () => {
    const directory = join(await mkdtemp(join(tmpdir(), 'ckpt-s3rver-test-')), 'data');
    const server = await startS3rver({ directory });
    try {
      expect(server.endpoint).toBe(`http://127.0.0.1:${server.port}`);
      expect(alive(server.pid)).toBe(true);
      const bucket = await server.createBucket('given-name');
      expect(bucket).toBe('given-name');
      const store = new S3Store({ ...server.storeOptions(), bucket });
      await store.put('a/b', Buffer.from('hello'));
      await store.close?.();
      expect(await readdir(join(directory, bucket))).not.toHaveLength(0);
    } finally {
      await server.stop();
    }
    expect(alive(server.pid)).toBe(false);
    expect(await exists(join(directory, 'given-name'))).toBe(true);
    await server.stop(); // idempotent
    await rm(join(directory, '..'), { recursive: true, force: true });
  });

  it('removes the temporary directory it made', async () => {
    const server = await startS3rver();
    await server.createBucket();
    await server.stop();
    expect(await exists(server.directory)).toBe(false);
  });
});
