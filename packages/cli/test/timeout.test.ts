// `--timeout` (or CKPT_TIMEOUT, or the store's `timeout` in the config file) bounds how long a
// request may wait for a store that accepts connections and never answers: the command fails
// with exit 1 and one line naming the store and the timeout, whichever backend it uses. The
// default timeout is 60 s: a command that ends well before that took the option.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type SilentServer, startSilentServer } from '@ckpt/test-servers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ckpt, lines, type RunOptions, tempDir } from './helpers.js';

let silent: SilentServer;
beforeAll(async () => {
  silent = await startSilentServer();
});
afterAll(() => silent?.stop());

const CREDENTIALS = {
  AWS_ACCESS_KEY_ID: 'k',
  AWS_SECRET_ACCESS_KEY: 's',
  AZURE_STORAGE_SAS_TOKEN: 'sv=2024-01-01&sig=not-a-real-signature',
};

const stores = () => ({
  s3: `s3://silent-bucket/x?endpoint=${silent.endpoint}&forcePathStyle=true`,
  gcs: `gs://silent-bucket/x?apiEndpoint=${silent.endpoint}`,
  azure: `az://silent/x?endpoint=${silent.endpoint}/devstoreaccount1`,
});
const NAMES = { s3: 's3://silent-bucket/x', gcs: 'gs://silent-bucket/x', azure: 'az://silent/x' };

/** Runs `ckpt args…` and how long it took. */
async function timed(args: string[], options: RunOptions) {
  const started = performance.now();
  const run = await ckpt(['--retries', '0', ...args], options);
  return { ...run, ms: performance.now() - started };
}

/** Exit 1, one line naming the store and the 2 s timeout, after the timeout and long before 60 s. */
function expectTimedOut(run: Awaited<ReturnType<typeof timed>>, store: string) {
  expect(run.code).toBe(1);
  expect(lines(run.stderr)).toEqual([expect.stringMatching(/^ckpt: .*no answer within the 2s timeout/)]);
  expect(run.stderr).toContain(`(store ${store})`);
  expect(run.stderr).not.toContain('not-a-real-signature');
  expect(run.ms).toBeGreaterThanOrEqual(2_000);
  expect(run.ms).toBeLessThan(30_000);
}

describe.each(['s3', 'gcs', 'azure'] as const)('%s against a server that never answers', (type) => {
  it('--timeout 2s fails the command within about the timeout: exit 1, one line naming the store and the timeout', async () => {
    const cwd = await tempDir();
    const run = await timed(['ls', '--timeout', '2s', '--store', stores()[type]], { cwd, env: CREDENTIALS });
    expectTimedOut(run, NAMES[type]);
  });
});

describe('where the timeout comes from', () => {
  it('CKPT_TIMEOUT stands for --timeout', async () => {
    const cwd = await tempDir();
    const run = await timed(['ls', '--store', stores().s3], {
      cwd,
      env: { ...CREDENTIALS, CKPT_TIMEOUT: '2s' },
    });
    expectTimedOut(run, NAMES.s3);
  });

  it("the store's timeout in the config file", async () => {
    const cwd = await tempDir();
    const store = {
      type: 'gcs',
      bucket: 'silent-bucket',
      prefix: 'x',
      apiEndpoint: silent.endpoint,
      timeout: '2s',
    };
    await writeFile(path.join(cwd, 'ckpt.config.json'), JSON.stringify({ store }));
    const run = await timed(['ls'], { cwd, env: CREDENTIALS });
    expectTimedOut(run, NAMES.gcs);
  });

  it("--timeout wins over the store URL's timeout", async () => {
    const cwd = await tempDir();
    const url = `${stores().azure}&timeout=1d`;
    const run = await timed(['ls', '--timeout', '2s', '--store', url], { cwd, env: CREDENTIALS });
    expectTimedOut(run, NAMES.azure);
  });
});

describe('a timeout that is not one', () => {
  it.each(['0', '2', 'soon', '2d'])('--timeout %s: exit 2, one line naming the option', async (value) => {
    const cwd = await tempDir();
    const run = await ckpt(['ls', '--timeout', value, '--store', stores().s3], { cwd, env: CREDENTIALS });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(/^ckpt: .*--timeout.*expected a duration from 1ms to 1d/),
    ]);
  });

  it('a config file timeout of 0: exit 2 naming the field', async () => {
    const cwd = await tempDir();
    const store = { type: 's3', bucket: 'silent-bucket', endpoint: silent.endpoint, timeout: '0' };
    await writeFile(path.join(cwd, 'ckpt.config.json'), JSON.stringify({ store }));
    const run = await ckpt(['ls'], { cwd, env: CREDENTIALS });
    expect(run.code).toBe(2);
    expect(lines(run.stderr)).toEqual([
      expect.stringMatching(/^ckpt: config store\.timeout: expected a duration from 1ms to 1d/),
    ]);
  });
});
