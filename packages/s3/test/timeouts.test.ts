// A server that accepts connections and never answers cannot hang a call: the request timeout
// fails it with a retryable Unavailable error that names the timeout (the ckpt command's
// end-to-end test of it is packages/cli/test/timeout.test.ts).
import { type SilentServer, startSilentServer } from '@ckpt/test-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../src/index.js';

let silent: SilentServer;
beforeAll(async () => {
  silent = await startSilentServer();
});
afterAll(() => silent?.stop());

it('a silent server fails a request with Unavailable once the timeout passes, naming it', async () => {
  const store = new S3Store({
    bucket: 'silent-bucket',
    endpoint: silent.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    timeoutMs: 500,
  });
  const started = Date.now();
  const err = await store.head('k').catch((e) => e);
  expect(err).toMatchObject({ code: 'Unavailable', retryable: true });
  expect(String(err)).toContain('head k: no answer within the 500ms timeout');
  expect(Date.now() - started).toBeLessThan(5000);
  await store.close();
});
