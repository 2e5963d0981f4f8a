import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { createBucket } from './sdk.js';

/** An s3rver child process serving one data directory on 127.0.0.1. */
export interface S3rverProcess {
  endpoint: string;
  /** Its data directory: a bucket's objects are files under `<directory>/<bucket>`. */
  directory: string;
  pid: number;
  /** Creates a bucket with a fresh name that starts with `label`. */
  newBucket(label: string): Promise<string>;
  /** Forgets a bucket's data by removing its folder (cleanup between runs; not measured). */
  dropBucket(bucket: string): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/**
 * Starts s3rver in a child process over `directory` (created), with `--openssl-legacy-provider`
 * on its whole process (its list continuation tokens use DES), and waits until it listens.
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
  const deadline = Date.now() + 15_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      await stopChild(child);
      throw new Error(`s3rver did not start on port ${port}: ${stderr || 'no output'}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    directory,
    pid: child.pid!,
    async newBucket(label) {
      const bucket = `${label}-${randomBytes(4).toString('hex')}`;
      await createBucket(endpoint, bucket);
      return bucket;
    },
    dropBucket: (bucket) => rm(join(directory, bucket), { recursive: true, force: true }),
    stop: () => stopChild(child),
  };
}
