// The ckpt command on an az:// store (Azurite), credentials from the environment: push two
// generations, verify, gc down to one, pull it back byte-exact; the plain SDK reads the blobs.
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { type Azurite, startAzurite } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../../cli/bin/ckpt.js', import.meta.url));
const MiB = 1024 * 1024;
let server: Azurite;
let container: ContainerClient;
let work: string;

beforeAll(async () => {
  server = await startAzurite();
  container = BlobServiceClient.fromConnectionString(server.connectionString).getContainerClient(
    await server.createContainer(),
  );
  work = await mkdtemp(join(tmpdir(), 'ckpt-azure-e2e-'));
});
afterAll(async () => {
  await server?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

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

async function blobs(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const item of container.listBlobsFlat({ prefix })) names.push(item.name);
  return names;
}

it('push, verify, gc and pull through an az:// URL; the plain SDK reads the objects', async () => {
  const prefix = `e2e/${randomUUID()}`;
  const store = `az://${container.containerName}/${prefix}?endpoint=${server.blobEndpoint}&blockSize=1048576`;
  const ckpt = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, ...args, '--store', store], {
      encoding: 'utf8',
      timeout: 120_000,
      env: {
        PATH: process.env.PATH,
        HOME: work,
        CKPT_STATE_DIR: join(work, 'state'),
        AZURE_STORAGE_CONNECTION_STRING: server.connectionString,
      },
    });
  const source = join(work, 'source');
  await mkdir(join(source, 'rootfs'), { recursive: true });
  await writeFile(join(source, 'pages-1.img'), randomBytes(20 * MiB));
  await writeFile(join(source, 'core-1.img'), randomBytes(4000));
  await writeFile(join(source, 'rootfs', 'kernel.bin'), randomBytes(3 * MiB + 7));

  const first = ckpt('push', source, '--model', 'llama');
  expect(first.status, first.stderr).toBe(0);
  const afterFirst = await blobs(`${prefix}/`);
  expect(afterFirst.length).toBeGreaterThan(0);

  // a second generation with a new pages file: the first one's pages become garbage once expired
  await writeFile(join(source, 'pages-1.img'), randomBytes(20 * MiB));
  const second = ckpt('push', source, '--model', 'llama');
  expect(second.status, second.stderr).toBe(0);
  const ls = ckpt('ls', 'llama', '--json');
  expect(ls.status, ls.stderr).toBe(0);

  const verify = ckpt('verify', 'llama');
  expect(verify.status, verify.stderr + verify.stdout).toBe(0);

  // gc expires the old generation (its record moves to trash), and a later gc deletes its packs
  const before = await blobs(`${prefix}/`);
  const expire = ckpt('gc', '--keep', '1', '--grace', '0', '--force', '--json');
  expect(expire.status, expire.stderr).toBe(0);
  expect(JSON.parse(expire.stdout).expiredGenerations).toHaveLength(1);
  // the store's clock (Last-Modified) counts whole seconds: the trash record must be a second old
  await new Promise((resolve) => setTimeout(resolve, 2100));
  const purge = ckpt('gc', '--keep', '1', '--grace', '0', '--force', '--json');
  expect(purge.status, purge.stderr).toBe(0);
  expect(JSON.parse(purge.stdout).packsDeleted).toBeGreaterThan(0);
  const after = await blobs(`${prefix}/`);
  expect(after.length).toBeLessThan(before.length);
  expect(after.some((name) => name.includes('/trash/'))).toBe(false);

  const target = join(work, 'target');
  const pull = ckpt('pull', 'llama', target);
  expect(pull.status, pull.stderr).toBe(0);
  expect(await digests(target)).toEqual(await digests(source));
  expect(ckpt('exists', 'llama').status).toBe(0);

  // the plain SDK reads every object the store holds, all under the prefix
  expect(after.every((name) => name.startsWith(`${prefix}/`))).toBe(true);
  for (const name of after) {
    const bytes = await container.getBlobClient(name).downloadToBuffer();
    const props = await container.getBlobClient(name).getProperties();
    expect(bytes.length).toBe(props.contentLength);
  }
  // no credential in any output
  for (const run of [first, second, ls, verify, expire, purge, pull]) {
    expect(run.stdout + run.stderr).not.toContain(server.accountKey);
  }
}, 300_000);

it('a missing container exits 2 naming the store; a missing model in one that exists exits 3', () => {
  const run = (container: string) =>
    spawnSync(
      process.execPath,
      [BIN, 'exists', 'llama', '--store', `az://${container}/team?endpoint=${server.blobEndpoint}`],
      {
        encoding: 'utf8',
        env: {
          PATH: process.env.PATH,
          HOME: work,
          CKPT_STATE_DIR: join(work, 'state'),
          AZURE_STORAGE_KEY: server.accountKey,
        },
      },
    );
  const missing = run('no-such-container');
  expect(missing.status).toBe(2);
  expect(missing.stderr.trimEnd().split('\n')).toEqual([
    expect.stringMatching(/^ckpt: .*the store az:\/\/no-such-container\/team does not exist/),
  ]);
  const absent = run(container.containerName);
  expect(absent.status, absent.stderr).toBe(3);
});
