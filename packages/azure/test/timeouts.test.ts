// A server that accepts connections and never answers (or stops mid-body) cannot hang a call: the
// backend's timeout fails it with a retryable Unavailable error (the ckpt command's end-to-end
// test of it is packages/cli/test/timeout.test.ts).
import { createServer as createHttpServer } from 'node:http';
import { type SilentServer, startSilentServer } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AzureStore } from '../src/index.js';

const SAS = 'sv=2024-01-01&sig=not-a-real-signature';
let silent: SilentServer;

beforeAll(async () => {
  silent = await startSilentServer();
});
afterAll(() => silent?.stop());

it('a silent server fails each operation with Unavailable once the timeout passes', async () => {
  const store = new AzureStore({
    container: 'silent',
    endpoint: `${silent.endpoint}/devstoreaccount1`,
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
    expect(String(err), name).toMatch(/no answer within the 300ms timeout/);
    expect(Date.now() - started, name).toBeLessThan(5000);
  }
  await store.close();
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
    expect(String(err)).toMatch(/get k: no answer within the 300ms timeout/);
    expect(Date.now() - started).toBeLessThan(5000);
  } finally {
    await store.close();
    stalled.closeAllConnections();
    await new Promise((resolve) => stalled.close(resolve));
  }
});
