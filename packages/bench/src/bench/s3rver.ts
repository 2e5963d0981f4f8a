import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { s3rverClient } from './sdk.js';

/** The benchmark's s3rver, in a child process on a free 127.0.0.1 port, with buckets per run. */
export interface S3rverProcess {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** Its data directory: a bucket's objects are files under `<directory>/<bucket>`. Kept by `stop`. */
  directory: string;
  /** Creates a bucket with a fresh name that starts with `label`. */
  newBucket(label: string): Promise<string>;
  /** Forgets a bucket's data by removing its folder (cleanup between runs; not measured). */
  dropBucket(bucket: string): Promise<void>;
  /** Kills the server and waits for it to exit. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver over `directory` (created) and waits until it listens. s3rver needs
 * `--openssl-legacy-provider` on its whole process (its list continuation tokens use DES), so it
 * runs as a child with that flag.
 */
export async function startS3rver(directory: string): Promise<S3rverProcess> {
  await mkdir(directory, { recursive: true });
  const port = await freePort();
  const bin = join(
    dirname(createRequire(import.meta.url).resolve('s3rver/package.json')),
    'bin',
    's3rver.js',
  );
  const child = spawn(
    process.execPath,
    [bin, '-d', directory, '-a', '127.0.0.1', '-p', String(port), '--silent', '--no-vhost-buckets'],
    {
      env: { ...process.env, NODE_OPTIONS: '--openssl-legacy-provider' },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await kill(child, exited);
  };
  try {
    await waitUntilListening(port, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    async newBucket(label) {
      const name = `${label}-${randomBytes(4).toString('hex')}`;
      const { client, sdk } = await s3rverClient(endpoint);
      try {
        await client.send(new sdk.CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
      return name;
    },
    dropBucket: (bucket) => rm(join(directory, bucket), { recursive: true, force: true }),
    stop,
  };
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilListening(port: number, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`s3rver exited with code ${child.exitCode}: ${stderr()}`);
    if (await canConnect(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`s3rver did not listen on port ${port} within 15 s: ${stderr()}`);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.connect(port, '127.0.0.1');
  });
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timeout);
}
