/**
 * `@ckpt/s3/s3rver`: a real S3 server for tests and benchmarks, s3rver in a child process on a
 * free 127.0.0.1 port. Needs the `s3rver` package (an optional peer dependency: install it next to
 * `@ckpt/s3` to use this module).
 *
 * s3rver needs `--openssl-legacy-provider` on its whole process (its list continuation tokens
 * use DES), so it runs as a child with that flag.
 *
 * @example
 * ```ts
 * let server: S3rver;
 * beforeAll(async () => { server = await startS3rver(); });
 * afterAll(() => server.stop());
 * const store = new S3Store({ ...server.storeOptions(), bucket: await server.createBucket() });
 * ```
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';

/** s3rver accepts only this access key id (it does not check the secret). */
export const S3RVER_ACCESS_KEY_ID = 'S3RVER';

/** A running s3rver. */
export interface S3rver {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** The server's process id. */
  pid: number;
  /**
   * Its data directory: a bucket's objects are files under `<directory>/<bucket>`. Removed by
   * `stop` when `startS3rver` made it (a temporary directory), kept when it was given.
   */
  directory: string;
  /**
   * Connection settings for `new S3Store({...})` (or core's `s3` config): path style,
   * `checksums: 'when_required'` (s3rver stores aws-chunked framing as data otherwise), the
   * S3RVER key, conditional writes off (s3rver ignores them).
   */
  storeOptions(): {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    checksums: 'when_required';
    conditionalWrites: false;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** SDK client settings with the same choices, for raw reads that bypass the store. */
  clientConfig(): S3ClientConfig;
  /** Creates a bucket (a random name unless given) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Kills the server, waits for it to exit, removes a temporary directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts s3rver on a free 127.0.0.1 port over `options.directory` (created if missing; default a
 * new temporary directory) and resolves once it accepts connections.
 */
export async function startS3rver(options: { directory?: string } = {}): Promise<S3rver> {
  const temporary = options.directory === undefined;
  const directory = options.directory ?? (await mkdtemp(join(tmpdir(), 'ckpt-s3rver-')));
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
    if (temporary) await rm(directory, { recursive: true, force: true });
  };
  try {
    await waitUntilListening(port, child, () => stderr);
  } catch (err) {
    await stop();
    throw err;
  }
  const endpoint = `http://127.0.0.1:${port}`;
  const credentials = { accessKeyId: S3RVER_ACCESS_KEY_ID, secretAccessKey: 'S3RVER' };
  const clientConfig = (): S3ClientConfig => ({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    port,
    pid: child.pid!,
    directory,
    clientConfig,
    storeOptions: () => ({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      checksums: 'when_required',
      conditionalWrites: false,
      credentials,
    }),
    async createBucket(name = `ckpt-${randomUUID().slice(0, 8)}`) {
      const client = new S3Client(clientConfig());
      try {
        await client.send(new CreateBucketCommand({ Bucket: name }));
      } finally {
        client.destroy();
      }
      return name;
    },
    stop,
  };
}

/** A port nothing listens on right now (bound to port 0, then released). */
export function freePort(): Promise<number> {
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
