// Secrets never printed or written, GCS on fake-gcs-server: a service account key (its private key
// and client email distinctive) in the config file and in a key file. fake-gcs-server checks no
// credentials, and Google's token endpoint is fixed, so the paths where the key is used run
// against Google's endpoints through a local proxy that refuses or never answers: the key is read,
// parsed and signed with, then the token request fails. Broken keys and key files, a server down
// or silent, a missing bucket, credentials in the URL and bad config files besides.
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type FakeGcs, freePort, startFakeGcs } from '@ckpt/test-servers';
import { useTempDir } from '@ckpt/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { checkSecrets, useSilentServer } from './secrets-harness.js';

const CLIENT = 'ckpt-sa-CLIENT-5e1d0c7b';
const NOT_A_KEY = 'notAKEY-PRIVATE-3a7f9e2c6b1d';
const URL_SECRET = 'url-SECRET-8d2b6f0a4c9e';
const PRIVATE_KEY = generateKeyPairSync('rsa', { modulusLength: 2048 })
  .privateKey.export({ type: 'pkcs8', format: 'pem' })
  .toString();
const serviceAccount = {
  type: 'service_account',
  project_id: 'ckpt-test',
  private_key_id: '0123456789abcdef',
  private_key: PRIVATE_KEY,
  client_email: `${CLIENT}@ckpt-test.iam.gserviceaccount.com`,
  client_id: '100000000000000000001',
  token_uri: 'https://oauth2.googleapis.com/token',
};
const silent = useSilentServer();
const tempDir = useTempDir('ckpt-secrets-gcs-', 'file');
let server: FakeGcs;
let bucket: string;

beforeAll(async () => {
  server = await startFakeGcs({ backend: 'filesystem' });
  bucket = await server.createBucket();
});
afterAll(async () => {
  await server?.stop();
});

it('no GCS credential appears in any output or in any file ckpt writes', async ({ annotate }) => {
  const work = await tempDir();
  const inputs = path.join(work, 'inputs');
  await mkdir(inputs);
  const keyFile = path.join(inputs, 'key.json');
  await writeFile(keyFile, JSON.stringify(serviceAccount, null, 2));
  // hand-edited: the email lost its quotes
  const brokenKeyFile = path.join(inputs, 'broken-key.json');
  await writeFile(
    brokenKeyFile,
    JSON.stringify(serviceAccount, null, 2).replace(
      `"${serviceAccount.client_email}"`,
      serviceAccount.client_email,
    ),
  );
  const refusing = `127.0.0.1:${await freePort()}`;
  const refused = `http://${refusing}`;
  const throughProxy = (proxy: string) => ({ HTTPS_PROXY: proxy });
  const emulator = {
    type: 'gcs',
    bucket,
    prefix: 'ckpt',
    apiEndpoint: server.endpoint,
    projectId: server.projectId,
  };
  const google = { type: 'gcs', bucket, prefix: 'ckpt', timeout: '1s' };
  const withKey = { credentials: serviceAccount };
  const summary = await checkSecrets(work, {
    secrets: [PRIVATE_KEY, CLIENT, NOT_A_KEY, URL_SECRET],
    storedDirs: [server.directory!],
    // Application Default Credentials would look at the metadata server: one that refuses
    env: { GCE_METADATA_HOST: refusing, GCE_METADATA_IP: refusing },
    scenarios: [
      { name: 'key in the config file', store: { ...emulator, ...withKey } },
      { name: 'key file', store: { ...emulator, keyFilename: keyFile } },
      {
        name: 'key file, token endpoint down',
        store: { ...google, keyFilename: keyFile },
        env: throughProxy(refused),
        fails: /ECONNREFUSED/,
      },
      {
        name: 'key in the config file, token endpoint silent',
        store: { ...google, ...withKey },
        env: throughProxy(`http://127.0.0.1:${silent.port}`),
        fails: /ETIMEDOUT|no answer/,
      },
      {
        name: 'a private key that is no key',
        store: {
          ...google,
          credentials: {
            ...serviceAccount,
            private_key: `-----BEGIN PRIVATE KEY-----\n${NOT_A_KEY}\n-----END PRIVATE KEY-----\n`,
          },
        },
        env: throughProxy(refused),
        fails: /DECODER|ERR_OSSL/,
      },
      {
        name: 'a key file that is not JSON',
        store: { ...google, keyFilename: brokenKeyFile },
        env: throughProxy(refused),
        fails: /Invalid JSON key file/,
      },
      {
        name: 'a missing key file',
        store: { ...google, keyFilename: path.join(inputs, 'absent.json') },
        env: throughProxy(refused),
        fails: /ENOENT|no such file/,
      },
      {
        name: 'server down',
        store: { ...emulator, ...withKey, apiEndpoint: refused },
        fails: /ECONNREFUSED/,
      },
      {
        name: 'silent server',
        store: { ...emulator, ...withKey, apiEndpoint: `http://127.0.0.1:${silent.port}`, timeout: '1s' },
        fails: /no answer within the 1s timeout/,
      },
      {
        name: 'missing bucket',
        store: { ...emulator, ...withKey, bucket: 'no-such-bucket' },
        // fake-gcs-server says a bare "Not Found", which the adapter cannot tell from a missing key
        fails: /does not exist|Not Found/,
      },
      ...['credentials', 'private_key', 'token'].map((param) => ({
        name: `?${param}= in the URL`,
        store: `gs://${bucket}/ckpt?apiEndpoint=${server.endpoint}&${param}=${URL_SECRET}`,
        fails: /credentials are never taken from URLs|unknown query parameter/,
        beforeStore: true,
      })),
      {
        name: 'password in the URL',
        store: `gs://user:${URL_SECRET}@${bucket}/ckpt`,
        fails: /credentials are never taken from URLs/,
        beforeStore: true,
      },
      {
        name: 'config: the key as a string',
        store: { ...emulator, credentials: JSON.stringify(serviceAccount) },
        fails: /store\.credentials: expected an object/,
        beforeStore: true,
      },
      {
        name: 'config: a key without its email',
        store: { ...emulator, credentials: { ...serviceAccount, client_email: undefined } },
        fails: /store\.credentials\.client_email/,
        beforeStore: true,
      },
      {
        name: 'config: a syntax error after the private key',
        configText: JSON.stringify({ store: { ...emulator, ...withKey } }, null, 2).replace(
          /("private_key": "[^"]*"),/,
          '$1',
        ),
        fails: /line \d+/,
        beforeStore: true,
      },
    ],
  });
  await annotate(`${summary.runs} runs; ${summary.files} files (${summary.bytes} bytes) searched`);
  expect(summary.files).toBeGreaterThan(30);
  expect(summary.problems).toEqual([]);
}, 600_000);
