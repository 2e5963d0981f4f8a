import { createHmac, randomUUID } from 'node:crypto';
import { mkdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { answers, startProcess, tempDir } from './process.js';

/** Azurite's well-known development account (the same on every machine; not a secret). */
export const AZURITE_ACCOUNT = 'devstoreaccount1';
export const AZURITE_ACCOUNT_KEY =
  'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/** A running Azurite blob service. */
export interface Azurite {
  /** The account's blob endpoint, `http://127.0.0.1:<port>/devstoreaccount1`. */
  blobEndpoint: string;
  port: number;
  pid: number;
  accountName: string;
  accountKey: string;
  /** For `BlobServiceClient.fromConnectionString`. */
  connectionString: string;
  /** Its `--location`: blobs and metadata live here. */
  directory: string;
  /** Creates a container (a random name unless given) and returns its name. */
  createContainer(name?: string): Promise<string>;
  /** Kills the server and removes a temporary data directory. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `azurite-blob` (the `azurite` package this one depends on, on this process's Node) on a
 * free 127.0.0.1 port over a new temporary directory (or `options.directory`, then kept), and
 * resolves once it answers HTTP.
 *
 * `--skipApiVersionCheck`: otherwise every request from an SDK newer than the Azurite release
 * answers 400. `--location` rather than in-memory: in-memory mode keeps overwritten data.
 * `secondKey` (base64) is accepted as well as the well-known key: a credential of the test's own.
 */
export async function startAzurite(
  options: { directory?: string; secondKey?: string } = {},
): Promise<Azurite> {
  const directory = options.directory ?? (await tempDir('azurite'));
  await mkdir(directory, { recursive: true });
  const bin = await azuriteBlobBin();
  const server = await startProcess({
    name: 'azurite-blob',
    command: process.execPath,
    args: (port) => [
      bin,
      '--blobHost',
      '127.0.0.1',
      '--blobPort',
      String(port),
      '--location',
      directory,
      '--skipApiVersionCheck',
      '--disableTelemetry',
      '--silent',
    ],
    // Azurite reads its accounts and their keys from this variable
    env: options.secondKey
      ? { AZURITE_ACCOUNTS: `${AZURITE_ACCOUNT}:${AZURITE_ACCOUNT_KEY}:${options.secondKey}` }
      : {},
    ready: (port) => answers(`http://127.0.0.1:${port}/${AZURITE_ACCOUNT}?comp=list`),
    cleanup: options.directory === undefined ? [directory] : [],
  });
  const blobEndpoint = `http://127.0.0.1:${server.port}/${AZURITE_ACCOUNT}`;
  return {
    blobEndpoint,
    port: server.port,
    pid: server.child.pid!,
    accountName: AZURITE_ACCOUNT,
    accountKey: AZURITE_ACCOUNT_KEY,
    connectionString:
      `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT};` +
      `AccountKey=${AZURITE_ACCOUNT_KEY};BlobEndpoint=${blobEndpoint};`,
    directory,
    async createContainer(name = `ckpt-${randomUUID().slice(0, 8)}`) {
      const response = await fetch(`${blobEndpoint}/${name}?restype=container`, {
        method: 'PUT',
        headers: signedHeaders('PUT', `/${AZURITE_ACCOUNT}/${name}`, { restype: 'container' }),
      });
      if (response.status !== 201) {
        throw new Error(
          `Azurite refused to create container ${name}: ${response.status} ${await response.text()}`,
        );
      }
      await response.body?.cancel();
      return name;
    },
    stop: server.stop,
  };
}

async function azuriteBlobBin(): Promise<string> {
  const manifest = createRequire(import.meta.url).resolve('azurite/package.json');
  const { bin } = JSON.parse(await readFile(manifest, 'utf8')) as { bin: Record<string, string> };
  return join(dirname(manifest), bin['azurite-blob']!);
}

/**
 * Headers of a body-less request signed with the account's Shared Key (the one request the
 * launcher makes itself, so it needs no Azure SDK). `path` is the URL path, account included.
 */
function signedHeaders(method: string, path: string, query: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {
    'x-ms-date': new Date().toUTCString(),
    'x-ms-version': '2021-12-02',
  };
  const canonicalHeaders = Object.keys(headers)
    .sort()
    .map((name) => `${name}:${headers[name]}\n`)
    .join('');
  const canonicalQuery = Object.keys(query)
    .sort()
    .map((name) => `\n${name}:${query[name]}`)
    .join('');
  // verb, then 11 standard headers (all empty here), then x-ms-* headers and the resource
  const toSign = `${method}\n${'\n'.repeat(11)}${canonicalHeaders}/${AZURITE_ACCOUNT}${path}${canonicalQuery}`;
  const signature = createHmac('sha256', Buffer.from(AZURITE_ACCOUNT_KEY, 'base64'))
    .update(toSign)
    .digest('base64');
  return { ...headers, authorization: `SharedKey ${AZURITE_ACCOUNT}:${signature}` };
}
