// A server that accepts connections and never answers (or stops mid-body) cannot hang a call: the
// backend's timeout fails it with a retryable Unavailable error, and the ckpt command gives up
// within the attempts of its one retry policy.
import { spawnSync } from 'node:child_process';
import { createServer as createHttpServer } from 'node:http';
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

it('a download body that stops midway fails with Unavailable once it has been silent for the timeout', async () => {
  // answers every GET with the headers of a 1000-byte blob and 10 bytes of it, then nothing
  const stalled = createHttpServer((_request, response) => {
    response.writeHead(200, {
      'content-length': '1000',
      etag: '"0x1"',
      'last-modified': new Date().toUTCString(),
      'x-ms-blob-type': 'BlockBlob',
    });
    response.write(Buffer.alloc(10, 1));
  });
  await new Promise<void>((resolve) => stalled.listen(0, '127.0.0.1', resolve));
  const { port: stalledPort } = stalled.address() as { port: number };
  const store = new AzureStore({
    container: 'stalled',
    endpoint: `http://127.0.0.1:${stalledPort}/devstoreaccount1`,
    sasToken: SAS,
    env: {},
    timeoutMs: 300,
    retry: false,
  });
  try {
    const { body, size } = await store.get('k');
    expect(size).toBe(1000);
    const started = Date.now();
    let received = 0;
    const err = await (async () => {
      for await (const chunk of body) received += (chunk as Buffer).length;
    })().catch((e: unknown) => e);
    expect(received).toBe(10);
    expect(err).toMatchObject({ code: 'Unavailable', retryable: true });
    expect(String(err)).toMatch(/silent/);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    await store.close();
    stalled.closeAllConnections();
    await new Promise((resolve) => stalled.close(resolve));
  }
});
