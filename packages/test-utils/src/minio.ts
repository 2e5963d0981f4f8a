import { S3Client } from '@aws-sdk/client-s3';
import { type Minio, startMinio } from '@ckpt/test-servers';
import { afterAll, beforeAll } from 'vitest';

/** What {@link useMinio} gives a test file, once its `beforeAll` has run. */
export interface MinioFixture {
  readonly server: Minio;
  /** A bucket made for this file. */
  readonly bucket: string;
  /** A plain S3 client of the server, made on first use: to look past the store under test. */
  readonly client: S3Client;
}

/**
 * A MinIO server and a bucket for the tests of one file: started before them, stopped after
 * them. With `credentialsInEnv`, the server's key pair is in `AWS_ACCESS_KEY_ID` and
 * `AWS_SECRET_ACCESS_KEY` meanwhile (as the SDK's default chain reads them: a URL never holds
 * credentials), and the variables are put back afterwards.
 */
export function useMinio(options: { credentialsInEnv?: boolean } = {}): MinioFixture {
  let server: Minio | undefined;
  let bucket: string | undefined;
  let client: S3Client | undefined;
  const saved = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '' } as Record<string, string | undefined>;
  beforeAll(async () => {
    server = await startMinio();
    bucket = await server.createBucket();
    if (options.credentialsInEnv) {
      for (const name of Object.keys(saved)) saved[name] = process.env[name];
      process.env.AWS_ACCESS_KEY_ID = server.credentials.accessKeyId;
      process.env.AWS_SECRET_ACCESS_KEY = server.credentials.secretAccessKey;
    }
  });
  afterAll(async () => {
    if (options.credentialsInEnv) {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    client?.destroy();
    await server?.stop();
  });
  const started = () => {
    if (!server || bucket === undefined) throw new Error('useMinio: the server starts in beforeAll');
    return { server, bucket };
  };
  return {
    get server() {
      return started().server;
    },
    get bucket() {
      return started().bucket;
    },
    get client() {
      client ??= new S3Client(started().server.clientConfig());
      return client;
    },
  };
}
