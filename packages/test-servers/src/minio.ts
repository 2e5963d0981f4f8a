import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3';
import { findBinary, startProcess, tempDir } from './process.js';

/** A running MinIO server (single drive, in a temporary directory). */
export interface Minio {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  pid: number;
  /** The data directory: a bucket's objects are under `<directory>/<bucket>`. */
  directory: string;
  region: 'us-east-1';
  /** The root user's key pair (random for each server). */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /**
   * Settings for `new S3Store({...storeOptions(), bucket})`: path style, the root credentials,
   * `conditionalWrites: true` (MinIO enforces `If-None-Match: *` and `If-Match` on PUT; `S3Store`
   * assumes a custom endpoint does not) and `keyIsAlsoPrefix: false` (once a key `a` exists,
   * MinIO's listings leave out the keys under `a/`).
   */
  storeOptions(): {
    endpoint: string;
    region: string;
    forcePathStyle: true;
    conditionalWrites: true;
    keyIsAlsoPrefix: false;
    credentials: { accessKeyId: string; secretAccessKey: string };
  };
  /** SDK client settings for raw requests that bypass the store. */
  clientConfig(): S3ClientConfig;
  /** Creates a bucket (a random name unless given) and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Kills the server and removes its temporary data directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `minio server` on a free 127.0.0.1 port over a new temporary directory (or
 * `options.directory`, which is then kept) and resolves once it reports itself ready. The binary
 * comes from `$CKPT_TOOLS_DIR/bin` or `PATH` (`scripts/install-test-tools.sh` builds it).
 */
export async function startMinio(options: { directory?: string } = {}): Promise<Minio> {
  const command = await findBinary('minio');
  const directory = options.directory ?? (await tempDir('minio'));
  await mkdir(directory, { recursive: true });
  const credentials = {
    accessKeyId: `ckpt-${randomBytes(4).toString('hex')}`,
    secretAccessKey: randomBytes(18).toString('base64url'),
  };
  const server = await startProcess({
    name: 'minio',
    command,
    args: (port) => ['server', directory, '--address', `127.0.0.1:${port}`, '--quiet'],
    env: {
      MINIO_ROOT_USER: credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
      // no web console (it would take a second random port), no update checks, and no refusal to
      // run on the root disk (a CI machine's temp directory usually is)
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
      MINIO_CI_CD: 'on',
    },
    ready: (port) => ready(`http://127.0.0.1:${port}/minio/health/ready`),
    cleanup: options.directory === undefined ? [directory] : [],
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  // a copy each time: an SDK client adds fields (`$source`) to the credentials object it is given
  const clientConfig = (): S3ClientConfig => ({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { ...credentials },
  });
  return {
    endpoint,
    port: server.port,
    pid: server.child.pid!,
    directory,
    region: 'us-east-1',
    credentials,
    clientConfig,
    storeOptions: () => ({
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      conditionalWrites: true,
      keyIsAlsoPrefix: false,
      credentials: { ...credentials },
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
    stop: server.stop,
  };
}

/** MinIO answers 200 on its readiness probe once it serves requests (503 while it starts). */
async function ready(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.ok;
}
