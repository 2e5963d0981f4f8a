import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { answers, findBinary, startProcess, tempDir } from './process.js';

/** A running fake-gcs-server (the Google Cloud Storage JSON API over plain HTTP, no authentication). */
export interface FakeGcs {
  /** `http://127.0.0.1:<port>`: `apiEndpoint` for `@google-cloud/storage`, or `STORAGE_EMULATOR_HOST`. */
  endpoint: string;
  port: number;
  pid: number;
  /** The project id buckets are created in (the server accepts any). */
  projectId: string;
  /** `'memory'` (nothing on disk) or `'filesystem'` (objects under `directory`). */
  backend: 'memory' | 'filesystem';
  /** The filesystem backend's root; `undefined` with the memory backend. */
  directory: string | undefined;
  /** Creates a bucket (a random name unless given) through the JSON API and returns its name. */
  createBucket(name?: string): Promise<string>;
  /** Kills the server and removes a temporary data directory. Idempotent. */
  stop(): Promise<void>;
}

export interface FakeGcsOptions {
  /** Default `'memory'`. */
  backend?: 'memory' | 'filesystem';
  /** The filesystem backend's root (kept by `stop`); default a new temporary directory. */
  directory?: string;
  /**
   * Where clients reach the server, when not at its own port (behind a proxy): upload session
   * URLs point there. Default `http://127.0.0.1:<port>`.
   */
  externalUrl?: string;
}

/**
 * Starts `fake-gcs-server` on a free 127.0.0.1 port and resolves once its JSON API answers. The
 * binary comes from `$CKPT_TOOLS_DIR/bin` or `PATH` (`scripts/install-test-tools.sh` builds it).
 */
export async function startFakeGcs(options: FakeGcsOptions = {}): Promise<FakeGcs> {
  const command = await findBinary('fake-gcs-server');
  const backend = options.backend ?? 'memory';
  const directory = backend === 'filesystem' ? (options.directory ?? (await tempDir('fake-gcs'))) : undefined;
  if (directory) await mkdir(directory, { recursive: true });
  const server = await startProcess({
    name: 'fake-gcs-server',
    command,
    args: (port) => [
      '-scheme',
      'http',
      '-host',
      '127.0.0.1',
      '-port',
      String(port),
      // upload session URLs (Location) and media links point back at this server (or the given
      // address), not at Google
      '-external-url',
      options.externalUrl ?? `http://127.0.0.1:${port}`,
      '-public-host',
      `127.0.0.1:${port}`,
      '-backend',
      backend,
      ...(directory ? ['-filesystem-root', directory] : []),
      '-log-level',
      'error',
    ],
    ready: (port) => answers(`http://127.0.0.1:${port}/storage/v1/b`),
    cleanup: directory && options.directory === undefined ? [directory] : [],
  });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const projectId = 'ckpt-test';
  return {
    endpoint,
    port: server.port,
    pid: server.child.pid!,
    projectId,
    backend,
    directory,
    async createBucket(name = `ckpt-${randomUUID().slice(0, 8)}`) {
      const response = await fetch(`${endpoint}/storage/v1/b?project=${projectId}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (!response.ok) {
        throw new Error(
          `fake-gcs-server refused to create bucket ${name}: ${response.status} ${await response.text()}`,
        );
      }
      await response.body?.cancel();
      return name;
    },
    stop: server.stop,
  };
}
