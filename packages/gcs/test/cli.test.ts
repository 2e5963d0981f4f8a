// The ckpt command on a gs:// store (fake-gcs-server): push, gc, verify and pull of a generated
// checkpoint; what it wrote is readable with the plain SDK; without credentials it says in one
// line what Application Default Credentials looked for.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type FakeGcs, startFakeGcs } from '@ckpt/test-servers';
import { makeCheckpoint, readTree, seededBytes, useTempDir } from '@ckpt/test-utils';
import { type Bucket, Storage } from '@google-cloud/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkDownload } from './sdk-download.js';

const BIN = fileURLToPath(new URL('../../cli/bin/ckpt.js', import.meta.url));
const tempDir = useTempDir('ckpt-gcs-cli-', 'file');
let server: FakeGcs;
let bucket: Bucket;
let work: string;

beforeAll(async () => {
  server = await startFakeGcs();
  bucket = new Storage({ apiEndpoint: server.endpoint, projectId: server.projectId }).bucket(
    await server.createBucket(),
  );
  work = await tempDir();
});
afterAll(async () => {
  await server?.stop();
});

function ckpt(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [BIN, ...args], {
    cwd: work,
    encoding: 'utf8',
    env: { PATH: process.env.PATH, CKPT_STATE_DIR: join(work, 'state'), HOME: work, ...env },
  });
}

describe('ckpt on a gs:// store (fake-gcs-server)', () => {
  it('pushes, pulls, verifies and collects garbage; the plain SDK reads what it wrote', async () => {
    const prefix = `cli/${randomUUID()}`;
    // packs go as resumable uploads in 1 MiB chunks, small objects in one request
    const store =
      `gs://${bucket.name}/${prefix}?apiEndpoint=${server.endpoint}&projectId=${server.projectId}` +
      '&resumableThreshold=1048576&chunkSize=1048576';
    const source = join(work, 'source');
    await makeCheckpoint(source);

    const first = ckpt(['push', source, '--model', 'llama', '--store', store]);
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    // a second generation that replaces the pages: the first one's data becomes garbage once expired
    await writeFile(join(source, 'pages-1.img'), seededBytes(5 * 1024 * 1024, 99));
    expect(ckpt(['push', source, '--model', 'llama', '--store', store]).status).toBe(0);

    const gc = ckpt(['gc', '--keep', '1', '--grace', '0', '--force', '--store', store, '--json']);
    expect(gc.stderr).toBe('');
    expect(gc.status).toBe(0);
    expect(JSON.parse(gc.stdout).expiredGenerations).toHaveLength(1);

    const verify = ckpt(['verify', 'llama', '--store', store]);
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);

    const target = join(work, 'target');
    const pull = ckpt(['pull', 'llama', target, '--store', store]);
    expect(pull.stderr).toBe('');
    expect(pull.status).toBe(0);
    expect(await readTree(target)).toEqual(await readTree(source));

    // every object is under the prefix and downloads whole with the plain SDK
    const [files] = await bucket.getFiles({ prefix: `${prefix}/` });
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((file) => file.name.startsWith(`${prefix}/`))).toBe(true);
    expect(files.some((file) => Number(file.metadata.size) > 1024 * 1024)).toBe(true);
    for (const file of files) {
      const bytes = await sdkDownload(file);
      expect(bytes.length).toBe(Number(file.metadata.size));
    }
  });

  it('without credentials, one line says what Application Default Credentials looked for', () => {
    const run = ckpt(['ls', '--store', `gs://${bucket.name}/x`], {
      // nothing to find: no key file variable, an empty home, a metadata server that refuses at once
      GCE_METADATA_HOST: '127.0.0.1:9',
      GCE_METADATA_IP: '127.0.0.1:9',
      NO_GCE_CHECK: 'true',
    });
    expect(run.status).not.toBe(0);
    const lines = run.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('Application Default Credentials');
    expect(lines[0]).toContain('GOOGLE_APPLICATION_CREDENTIALS');
  });
});
