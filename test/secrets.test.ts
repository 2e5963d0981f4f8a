// Secrets never printed or written, S3 on MinIO: the server's key pair (environment, config file),
// a wrong secret with a session token, credentials in the URL, a server down or silent, a missing
// bucket, a bad config, an encrypted store's key (right and wrong); every command, every output
// and every file ckpt wrote searched.
import path from 'node:path';
import { freePort } from '@ckpt/test-servers';
import { useMinio, useTempDir } from '@ckpt/test-utils';
import { expect, it } from 'vitest';
import { checkSecrets, useSilentServer } from './secrets-harness.js';

const WRONG_SECRET = 'wrong-SECRET-7f3a9c1e5b2d8f40';
const SESSION_TOKEN = 'session-TOKEN-4e8b2a6c0d9f1357';
const URL_PASSWORD = 'url-PASSWORD-2c6e0a8f4b1d9735';
const ENCRYPTION_KEY = 'ENCKEY-9d4f7b2e6a1c8053e7';
const WRONG_ENCRYPTION_KEY = 'BADKEY-3b8e1f6a0c5d7294a1';
const minio = useMinio();
const silent = useSilentServer();
const tempDir = useTempDir('ckpt-secrets-s3-', 'file');

it('no S3 credential appears in any output or in any file ckpt writes', async ({ annotate }) => {
  const { bucket } = minio;
  const { accessKeyId, secretAccessKey } = minio.server.credentials;
  const place = { bucket, prefix: 'ckpt', region: 'us-east-1', forcePathStyle: true };
  const url = (options: { bucket?: string; prefix?: string; endpoint?: string; query?: string } = {}) =>
    `s3://${options.bucket ?? bucket}/${options.prefix ?? 'ckpt'}?endpoint=${options.endpoint ?? minio.server.endpoint}` +
    `&region=us-east-1&forcePathStyle=true&conditionalWrites=true${options.query ?? ''}`;
  const good = { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
  const summary = await checkSecrets(await tempDir(), {
    secrets: [
      secretAccessKey,
      WRONG_SECRET,
      SESSION_TOKEN,
      URL_PASSWORD,
      ENCRYPTION_KEY,
      WRONG_ENCRYPTION_KEY,
    ],
    storedDirs: [path.join(minio.server.directory, bucket)],
    scenarios: [
      { name: 'key pair in the environment', store: url(), env: good },
      {
        name: 'key pair in the config file',
        store: {
          type: 's3',
          ...place,
          endpoint: minio.server.endpoint,
          credentials: { accessKeyId, secretAccessKey },
        },
      },
      {
        name: 'encrypted store, its key in the environment',
        store: url({ prefix: 'encrypted' }),
        env: { ...good, CKPT_ENCRYPTION_KEY: ENCRYPTION_KEY },
      },
      {
        name: 'encrypted store, a wrong key',
        store: url({ prefix: 'encrypted' }),
        env: { ...good, CKPT_ENCRYPTION_KEY: WRONG_ENCRYPTION_KEY },
        fails: /does not open this store/,
      },
      {
        name: 'wrong secret with a session token',
        store: url(),
        env: { ...good, AWS_SECRET_ACCESS_KEY: WRONG_SECRET, AWS_SESSION_TOKEN: SESSION_TOKEN },
        fails: /access denied/,
      },
      {
        name: 'server down',
        store: url({ endpoint: `http://127.0.0.1:${await freePort()}` }),
        env: good,
        fails: /ECONNREFUSED/,
      },
      {
        name: 'silent server',
        store: url({
          endpoint: `http://127.0.0.1:${silent.port}`,
          query: '&connectTimeout=1s&timeout=1s',
        }),
        env: good,
        fails: /no answer within the 1s timeout/,
      },
      {
        name: 'missing bucket',
        store: url({ bucket: 'no-such-bucket' }),
        env: good,
        fails: /does not exist/,
      },
      {
        name: 'password in the URL',
        store: `s3://user:${URL_PASSWORD}@${bucket}/x`,
        fails: /credentials are never taken from URLs/,
        beforeStore: true,
      },
      {
        name: 'secret key in the URL',
        store: url({ query: `&secretAccessKey=${WRONG_SECRET}` }),
        fails: /credentials are never taken from URLs/,
        beforeStore: true,
      },
      {
        name: 'config: credentials without a key id',
        store: { type: 's3', ...place, credentials: { secretAccessKey: WRONG_SECRET } },
        fails: /store\.credentials\.accessKeyId/,
        beforeStore: true,
      },
    ],
  });
  await annotate(`${summary.runs} runs; ${summary.files} files (${summary.bytes} bytes) searched`);
  expect(summary.files).toBeGreaterThan(30);
  expect(summary.problems).toEqual([]);
}, 600_000);
