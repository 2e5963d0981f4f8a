import { type ChildProcess, spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** The script that installs the Go-built servers (relative to the repository root). */
export const INSTALL_SCRIPT = 'scripts/install-test-tools.sh';

/** Where `scripts/install-test-tools.sh` puts binaries: `$CKPT_TOOLS_DIR/bin`, default `~/.cache/ckpt-tools/bin`. */
export function toolsBinDir(): string {
  return join(process.env.CKPT_TOOLS_DIR || join(homedir(), '.cache', 'ckpt-tools'), 'bin');
}

/**
 * The path of executable `name`: the tools directory first (so the pinned build wins over any
 * other install), then `PATH`. Throws naming the install script when there is none: a test that
 * needs a server must fail without it, never skip.
 */
export async function findBinary(name: string): Promise<string> {
  const dirs = [toolsBinDir(), ...(process.env.PATH ?? '').split(delimiter).filter(Boolean)];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {}
  }
  throw new Error(
    `${name} is not installed: not in ${toolsBinDir()} nor on PATH. Run \`bash ${INSTALL_SCRIPT}\` ` +
      '(or set CKPT_TOOLS_DIR to where it installed the servers).',
  );
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

/** A new temporary directory `<tmp>/ckpt-<label>-XXXXXX`. */
export function tempDir(label: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `ckpt-${label}-`));
}

/** A server process started by {@link startProcess}. */
export interface ServerProcess {
  child: ChildProcess;
  port: number;
  /** Kills the process (SIGTERM, SIGKILL after 5 s), waits for it to exit, removes `cleanup`. Idempotent. */
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Shown in errors. */
  name: string;
  command: string;
  args: (port: number) => string[];
  env?: NodeJS.ProcessEnv;
  /** Resolves true once the server at `port` answers a request. */
  ready: (port: number) => Promise<boolean>;
  /** Directories removed by `stop` (temporary data). */
  cleanup?: string[];
  timeoutMs?: number;
}

/**
 * Starts a server on a free loopback port and waits until it answers. The port is picked before
 * the server binds it, so another process may take it in between: a start whose server exits
 * early is retried on a new port, up to three times.
 */
export async function startProcess(options: StartOptions): Promise<ServerProcess> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(options, port);
    } catch (err) {
      lastError = err;
      if (!(err instanceof EarlyExit)) break;
    }
  }
  await removeAll(options.cleanup);
  throw lastError;
}

class EarlyExit extends Error {}

async function startOnce(options: StartOptions, port: number): Promise<ServerProcess> {
  const child = spawn(options.command, options.args(port), {
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let spawnError: Error | undefined;
  child.once('error', (err) => {
    spawnError = err;
  });

  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  let ready = false;
  while (!ready) {
    if (spawnError)
      throw new Error(`${options.name} (${options.command}) did not start: ${spawnError.message}`);
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new EarlyExit(
        `${options.name} exited (${child.exitCode ?? child.signalCode}) before answering on port ${port}: ${output}`,
      );
    }
    if (Date.now() > deadline) {
      await kill(child, exited);
      throw new Error(
        `${options.name} did not answer on port ${port} within ${options.timeoutMs ?? 30_000} ms: ${output}`,
      );
    }
    ready = await options.ready(port).catch(() => false);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
  }

  let stopped: Promise<void> | undefined;
  return {
    child,
    port,
    stop: () => {
      stopped ??= (async () => {
        await kill(child, exited);
        await removeAll(options.cleanup);
      })();
      return stopped;
    },
  };
}

/** True once `url` answers with any HTTP status (the server parses requests). */
export async function answers(url: string, init?: RequestInit): Promise<boolean> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return true;
}

async function kill(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timeout = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timeout);
}

async function removeAll(dirs: string[] = []): Promise<void> {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
}
