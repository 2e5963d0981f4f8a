// Secrets never printed or written: distinctive credentials for a real S3 server (MinIO), every
// command run with and without them, in every output mode, failures included; then every output
// and every file ckpt wrote (state directory, the bucket) is searched for them.
import { spawnSync } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { seededBytes, useMinio, useTempDir } from '@ckpt/test-utils';
import { beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../packages/cli/bin/ckpt.js', import.meta.url));
const WRONG_SECRET = 'wrong-SECRET-7f3a9c1e5b2d8f40';
const SESSION_TOKEN = 'session-TOKEN-4e8b2a6c0d9f1357';
const URL_PASSWORD = 'url-PASSWORD-2c6e0a8f4b1d9735';
const minio = useMinio();
const tempDir = useTempDir('ckpt-secrets-', 'file');
let work: string;

beforeAll(async () => {
  work = await tempDir();
  await mkdir(path.join(work, 'src/rootfs'), { recursive: true });
  await writeFile(path.join(work, 'src/pages-1.img'), seededBytes(3 << 20, 1));
  await writeFile(path.join(work, 'src/rootfs/k.bin'), seededBytes(5000, 2));
});

/** Every file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<[string, Buffer][]> {
  const out: [string, Buffer][] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    out.push([file, await readFile(file)]);
  }
  return out;
}

it('no credential appears in any output or in any file ckpt writes', async () => {
  const secrets = [minio.server.credentials.secretAccessKey, WRONG_SECRET, SESSION_TOKEN, URL_PASSWORD];
  const store = `s3://${minio.bucket}/ckpt?endpoint=${minio.server.endpoint}&region=us-east-1&forcePathStyle=true&conditionalWrites=true`;
  const state = path.join(work, 'state');
  const good = {
    AWS_ACCESS_KEY_ID: minio.server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: minio.server.credentials.secretAccessKey,
  };
  const bad = {
    AWS_ACCESS_KEY_ID: minio.server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: WRONG_SECRET,
    AWS_SESSION_TOKEN: SESSION_TOKEN,
  };
  const commands = [
    ['push', path.join(work, 'src'), '--model', 'm'],
    ['pull', 'm', path.join(work, 'dst')],
    ['exists', 'm'],
    ['ls'],
    ['ls', 'm'],
    ['verify', 'm'],
    ['gc', '--dry-run'],
    ['delete', 'absent', '--all'],
  ];
  const outputs: string[] = [];
  const codes = new Map<string, (number | null)[]>();
  for (const [label, env] of [
    ['good', good],
    ['bad', bad],
  ] as const) {
    for (const command of commands) {
      for (const mode of [[], ['--json'], ['--debug']]) {
        const run = spawnSync(process.execPath, [BIN, ...command, '--store', store, ...mode], {
          encoding: 'utf8',
          env: { PATH: process.env.PATH, CKPT_STATE_DIR: state, ...env },
        });
        outputs.push(run.stdout, run.stderr);
        codes.set(`${label} ${command[0]}`, [...(codes.get(`${label} ${command[0]}`) ?? []), run.status]);
      }
    }
  }
  // a URL that carries a password is refused, and the password is not echoed
  const withPassword = spawnSync(
    process.execPath,
    [BIN, 'ls', '--store', `s3://user:${URL_PASSWORD}@${minio.bucket}/x`, '--debug'],
    {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, CKPT_STATE_DIR: state },
    },
  );
  outputs.push(withPassword.stdout, withPassword.stderr);
  expect(withPassword.status).toBe(2);

  // the commands did run: the good credentials pushed and pulled, the bad ones failed
  expect(codes.get('good push')).toEqual([0, 0, 0]);
  expect(codes.get('good pull')).toEqual([0, 0, 0]);
  expect(codes.get('bad ls')!.every((code) => code !== 0)).toBe(true);
  const files = [
    ...(await filesUnder(state)),
    ...(await filesUnder(path.join(minio.server.directory, minio.bucket))),
  ];
  expect(files.length).toBeGreaterThan(3);
  for (const secret of secrets) {
    for (const output of outputs) expect(output).not.toContain(secret);
    for (const [file, content] of files) expect(content.includes(secret), file).toBe(false);
  }
}, 240_000);
