// A bucket that does not exist is a configuration error naming the store (exit 2), never an empty
// store (exit 3): `ckpt exists m || cold-start` must not mistake a typo for a missing model.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { useMinio, useTempDir } from '@ckpt/test-utils';
import { beforeAll, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../packages/cli/bin/ckpt.js', import.meta.url));
const minio = useMinio();
const tempDir = useTempDir('ckpt-missing-bucket-', 'file');
let work: string;

beforeAll(async () => {
  work = await tempDir();
});

function ckpt(args: string[], name: string) {
  const store = `s3://${name}/team?endpoint=${minio.server.endpoint}&region=us-east-1&forcePathStyle=true`;
  return spawnSync(process.execPath, [BIN, ...args, '--store', store], {
    cwd: work,
    encoding: 'utf8',
    env: {
      PATH: process.env.PATH,
      HOME: work,
      AWS_ACCESS_KEY_ID: minio.server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: minio.server.credentials.secretAccessKey,
    },
  });
}

it('a missing bucket exits 2 naming the store; a missing model in a bucket that exists exits 3 naming it', () => {
  for (const args of [
    ['exists', 'llama-8b'],
    ['ls'],
    ['ls', 'llama-8b'],
    ['pull', 'llama-8b', 'out'],
    ['gc'],
  ]) {
    const run = ckpt(args, 'no-such-bucket');
    expect(run.status, args.join(' ')).toBe(2);
    expect(run.stderr.trimEnd().split('\n'), args.join(' ')).toEqual([
      expect.stringMatching(
        /^ckpt: .*the store s3:\/\/no-such-bucket\/team does not exist \(no such bucket "no-such-bucket"\)/,
      ),
    ]);
    expect(run.stderr).not.toContain(minio.server.credentials.secretAccessKey);
  }
  const absent = ckpt(['exists', 'llama-8b'], minio.bucket);
  expect(absent.status).toBe(3);
  expect(absent.stdout).toBe(`llama-8b: no complete checkpoint in s3://${minio.bucket}/team\n`);
  expect(existsSync(path.join(work, 'out'))).toBe(false);
});
