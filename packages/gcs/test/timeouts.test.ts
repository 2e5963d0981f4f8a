// A server that accepts connections and never answers must not hang a call: the request fails
// with a retryable Unavailable, which names the timeout, once it has gone that long without one.
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BackendStore, StoreError } from '@ckpt/core';
import { type SilentServer, startSilentServer } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GcsBackend } from '../src/gcs-store.js';

let silent: SilentServer;
beforeAll(async () => {
  silent = await startSilentServer();
});
afterAll(() => silent?.stop());

const store = () =>
  new BackendStore(new GcsBackend({ bucket: 'silent', apiEndpoint: silent.endpoint, timeoutMs: 500 }), {
    retry: false,
  });

it.each([
  ['head', (s: BackendStore) => s.head('k')],
  ['get', (s: BackendStore) => s.get('k')],
  [
    'list',
    async (s: BackendStore) => {
      for await (const _ of s.list('')) break;
    },
  ],
  ['delete', (s: BackendStore) => s.delete('k')],
  ['put (one request)', (s: BackendStore) => s.put('k', Buffer.from('bytes'))],
  ['put (resumable)', (s: BackendStore) => s.put('k', Buffer.alloc(20 * 1024 * 1024))],
])('%s against a silent server fails Unavailable (retryable) after the timeout', async (_name, call) => {
  const started = Date.now();
  const error = await Promise.resolve()
    .then(async () => {
      await call(store());
    })
    .then(
      () => undefined,
      (e: unknown) => e,
    );
  expect(StoreError.is(error, 'Unavailable')).toBe(true);
  expect((error as StoreError).retryable).toBe(true);
  expect(String(error)).toContain('no answer within the 500ms timeout');
  expect(Date.now() - started).toBeLessThan(10_000);
});

it('a resumable put whose chunk the server never answers fails Unavailable (retryable) after the timeout', async () => {
  // the session starts; the chunks then meet silence
  const sessions = createHttpServer((request, response) => {
    if (request.method === 'POST') {
      response.writeHead(200, { location: `${sessionEndpoint}/session?upload_id=1` }).end('{}');
    } else request.resume();
  });
  await new Promise<void>((resolve) => sessions.listen(0, '127.0.0.1', resolve));
  const sessionEndpoint = `http://127.0.0.1:${(sessions.address() as AddressInfo).port}`;
  try {
    const s = new BackendStore(
      new GcsBackend({
        bucket: 'silent',
        apiEndpoint: sessionEndpoint,
        timeoutMs: 500,
        resumableThreshold: 256 * 1024,
        chunkSize: 256 * 1024,
      }),
      { retry: false },
    );
    const started = Date.now();
    const error = await s.put('k', Buffer.alloc(1024 * 1024)).catch((e: unknown) => e);
    expect(StoreError.is(error, 'Unavailable')).toBe(true);
    expect((error as StoreError).retryable).toBe(true);
    expect(String(error)).toContain('no answer within the 500ms timeout');
    expect(Date.now() - started).toBeLessThan(10_000);
  } finally {
    sessions.closeAllConnections();
    await new Promise((resolve) => sessions.close(resolve));
  }
});
