// A server that accepts connections and never answers (or stops mid-body) cannot hang a call:
// the connection's idle timeout fails it with a retryable Unavailable error, and the ckpt
// command gives up within the attempts of its one retry policy.
import { spawnSync } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { S3Store } from '../src/index.js';

const BIN = fileURLToPath(new URL('../../cli/bin/ckpt.js', import.meta.url));
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

it('a silent server fails a request with Unavailable once the idle timeout passes', async () => {
  const store = new S3Store({
    bucket: 'silent-bucket',
    endpoint: `http://127.0.0.1:${port}`,
    forcePathStyle: true,
    credentials: { accessKeyId: 'k', secretAccessKey: 's' },
    idleTimeoutMs: 500,
  });
  const started = Date.now();
  const err = await store.head('k').catch((e) => e);
  expect(err).toMatchObject({ code: 'Unavailable', retryable: true });
  expect(Date.now() - started).toBeLessThan(5000);
  await store.close();
});

it('ckpt ls against a silent server exits 1 with one line within its attempts, never hangs', () => {
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [
      BIN,
      'ls',
      '--store',
      `s3://silent-bucket/x?endpoint=http://127.0.0.1:${port}&forcePathStyle=true&idleTimeout=300ms`,
    ],
    {
      encoding: 'utf8',
      timeout: 60_000,
      env: {
        PATH: process.env.PATH,
        AWS_ACCESS_KEY_ID: 'k',
        AWS_SECRET_ACCESS_KEY: 's',
        CKPT_STATE_DIR: '/nonexistent',
      },
    },
  );
  expect(run.signal).toBeNull();
  expect(run.status).toBe(1);
  expect(run.stderr.trim().split('\n')).toHaveLength(1);
  expect(run.stderr).toMatch(/^ckpt: .*(timed out|timeout|Timeout)/i);
  // five attempts of 300 ms and the backoff between them
  expect(Date.now() - started).toBeLessThan(20_000);
});
