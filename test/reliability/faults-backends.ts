// The three network backends the fault campaign runs against, each on its local server with a
// fault-injecting proxy in front: how to start them and how `ckpt` reaches them, through the
// proxy or straight.
import { mulberry32 } from '@ckpt/core/testing';
import {
  type FaultProxy,
  freePort,
  startAzurite,
  startFakeGcs,
  startFaultProxy,
  startMinio,
} from '@ckpt/test-servers';

export const BACKENDS = ['s3', 'gcs', 'azure'] as const;
export type BackendName = (typeof BACKENDS)[number];

/** A server with a proxy in front, and the `ckpt` store URLs of both. */
export interface FaultTarget {
  proxy: FaultProxy;
  /** The store through the proxy, with every timeout at `timeoutMs`. */
  proxied: string;
  /** The same store, straight to the server. */
  direct: string;
  /** Credentials, as each SDK reads them from the environment. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export interface TargetOptions {
  /** Share of connections the proxy hurts. */
  probability: number;
  seed: number;
  /** The clients' connect and idle timeouts; a stall lasts three times as long. */
  timeoutMs: number;
}

const MiB = 1024 * 1024;

export async function startTarget(name: BackendName, options: TargetOptions): Promise<FaultTarget> {
  const proxyPort = await freePort();
  const via = `http://127.0.0.1:${proxyPort}`;
  const t = `${options.timeoutMs}ms`;
  const server = await startServer(name, via);
  try {
    const proxy = await startFaultProxy({
      target: server.port,
      port: proxyPort,
      probability: options.probability,
      random: mulberry32(options.seed),
      dialect: name,
      stallMs: 3 * options.timeoutMs,
    });
    return {
      proxy,
      proxied: server.url(via, t),
      direct: server.url(server.endpoint, '60s'),
      env: server.env,
      async stop() {
        await proxy.close();
        await server.stop();
      },
    };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

interface Server {
  port: number;
  endpoint: string;
  url(endpoint: string, timeout: string): string;
  env: Record<string, string>;
  stop(): Promise<void>;
}

/** The server of `name`, its bucket or container made; `via` is where its clients will reach it. */
async function startServer(name: BackendName, via: string): Promise<Server> {
  if (name === 's3') {
    const minio = await startMinio();
    const bucket = await minio.createBucket();
    return {
      ...minio,
      // conditional writes: MinIO enforces them, and a custom endpoint is taken not to
      url: (endpoint, t) =>
        `s3://${bucket}/faults?endpoint=${endpoint}&region=${minio.region}&forcePathStyle=true` +
        `&conditionalWrites=true&connectTimeout=${t}&timeout=${t}`,
      env: {
        AWS_ACCESS_KEY_ID: minio.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: minio.credentials.secretAccessKey,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    };
  }
  if (name === 'gcs') {
    const gcs = await startFakeGcs({ externalUrl: via });
    const bucket = await gcs.createBucket();
    return {
      ...gcs,
      // packs (8 MiB) go as resumable uploads of 1 MiB chunks: their sessions face the faults too
      url: (endpoint, t) =>
        `gs://${bucket}/faults?apiEndpoint=${endpoint}&projectId=${gcs.projectId}&timeout=${t}` +
        `&resumableThreshold=${4 * MiB}&chunkSize=${MiB}`,
      env: {},
    };
  }
  const azurite = await startAzurite();
  const container = await azurite.createContainer();
  const account = azurite.accountName;
  return {
    ...azurite,
    endpoint: `http://127.0.0.1:${azurite.port}`,
    url: (endpoint, t) => `az://${container}/faults?endpoint=${endpoint}/${account}&timeout=${t}`,
    env: { AZURE_STORAGE_KEY: azurite.accountKey },
  };
}
