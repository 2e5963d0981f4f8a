// A server that accepts connections and never answers (or stops mid-body) cannot hang a call: the
// backend's timeout fails it with a retryable Unavailable error, and the ckpt command gives up
// within the attempts of its one retry policy.
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AzureStore } from '../src/index.js';

const BIN = fileURLToPath(new URL('../../cli/bin/ckpt.js', import.meta.url));
const SAS = 'sv=2024-01-01&sig=not-a-real-signature';
let silent: Server;
let port: number;
const sockets = new Set<Socket>();

beforeAll(async () => {
  // reads every request, answers none
  silent = createServer((socket) => {
    sockets.add(socket.on('data', () => {}).on('close', () => sockets.delete(socket)));
  });
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  port = (silent.address() as { port: number }).port;
});
afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it('a silent server fails each operation with Unavailable once the timeout passes', async () => {
  const store = new AzureStore({
    container: 'silent',
    endpoint: `http://127.0.0.1:${port}/devstoreaccount1`,
    sasToken: SAS,
    env: {},
    timeoutMs: 300,
    retry: false,
  });
  for (const [name, action] of [
    ['head', () => store.head('k')],
    ['get', () => store.get('k')],
    ['put', () => store.put('k', Buffer.from('x'))],
    ['delete', () => store.delete('k')],
    [
      'list',
      async () => {
        for await (const _ of store.list()) break;
      },
    ],
  ] as const) {
    const started = Date.now();
    const err = await (action as () => Promise<unknown>)().catch((e: unknown) => e);
    expect(err, name).toMatchObject({ code: 'Unavailable', retryable: true });
    expect(String(err), name).toMatch(/timed out/);
    expect(Date.now() - started, name).toBeLessThan(5000);
  }
  await store.close();
});

it('ckpt ls against a silent server exits 1 with one line within its attempts, never hangs', () => {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [BIN, 'ls', '--store', `az://silent/x?endpoint=http://127.0.0.1:${port}/devstoreaccount1&timeout=300ms`],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: { PATH: process.env.PATH, AZURE_STORAGE_SAS_TOKEN: SAS, CKPT_STATE_DIR: '/nonexistent' },
    },
  );
  expect(run.signal).toBeNull();
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^ckpt: .*timed out/);
  expect(run.stderr).not.toContain('not-a-real-signature');
  expect(Date.now() - started).toBeLessThan(20_000);
});
