// The "secrets" check of the reliability suite, one copy for every backend. Each scenario (good
// credentials, wrong ones, a server that is down or silent, a missing bucket, bad URLs and config
// files) runs every ckpt command as the real binary; then every output and every file ckpt wrote
// (state directories, the pushed and pulled trees, what the server stored) is searched for any
// piece of a secret: a message may quote a few characters of one (V8's JSON errors quote ten).
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeCheckpoint } from '@ckpt/test-utils';
import { afterAll, beforeAll } from 'vitest';

const BIN = fileURLToPath(new URL('../packages/cli/bin/ckpt.js', import.meta.url));
/** The shortest piece of a secret searched for. */
const PIECE = 8;
/** Two attempts per request, so the failures that are retried end soon. */
const SYNC = { attempts: 2, retryWithin: '10s' };
/** Scenarios that fail run side by side, this many at once (most of them wait on a timeout). */
const PARALLEL = 4;

/** How ckpt reaches the store in one scenario, and what must come of it. */
export interface Scenario {
  name: string;
  /** A store URL (given with `--store`) or a store config object (in the config file). */
  store?: string | Record<string, unknown>;
  /** The config file's whole text instead (a syntax error next to a secret). */
  configText?: string;
  env?: Record<string, string>;
  /** Every command fails with an error matching this; without it, every command succeeds. */
  fails?: RegExp;
  /** It fails before the store is opened, alike for every command: `ls` stands for them all. */
  beforeStore?: boolean;
}

export interface SecretsCase {
  /** Every secret the scenarios use (for a connection string, its key or signature). */
  secrets: string[];
  scenarios: Scenario[];
  /** Where the server keeps what ckpt stored. */
  storedDirs: string[];
  /** Environment of every run, besides PATH, an empty HOME and a state directory per scenario. */
  env?: Record<string, string>;
}

/** What {@link checkSecrets} did: for the test's annotation. */
export interface SecretsSummary {
  runs: number;
  files: number;
  bytes: number;
  /** Every problem: a command that did not end as its scenario expects, or a piece of a secret found. */
  problems: string[];
}

interface Run {
  label: string;
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Every command in the order a working store is exercised: the delete last, so a second round pushes anew. */
function commands(dst: string): string[][] {
  return [
    ['push', 'src', '--model', 'm'],
    ['pull', 'm', dst],
    ['exists', 'm'],
    ['ls'],
    ['ls', 'm'],
    ['verify', 'm'],
    ['gc', '--keep', '1', '--grace', '0s', '--force'],
    ['delete', 'm', '--all'],
  ];
}

/**
 * Runs every scenario of `c` in `work` (its `inputs/` folder holds the test's credential files and
 * the config files, which are not searched; everything else is) and searches every output and
 * file for the secrets. Working scenarios run one after another, in two output modes (human with
 * `--verbose`, and `--json --debug`); failing ones side by side, in `--json --debug`, which prints
 * what every other mode prints on a failure (the same stderr line), plus the error object and the
 * stack.
 */
export async function checkSecrets(work: string, c: SecretsCase): Promise<SecretsSummary> {
  const out = path.join(work, 'out');
  const inputs = path.join(work, 'inputs');
  await makeCheckpoint(path.join(out, 'src'), { pagesScale: 0.25 });
  await mkdir(path.join(out, 'home'), { recursive: true });
  await mkdir(inputs, { recursive: true });
  const runs: Run[] = [];
  const problems: string[] = [];

  const runScenario = async (s: Scenario, i: number) => {
    const config = path.join(inputs, `ckpt.config-${i}.json`);
    await writeFile(config, s.configText ?? JSON.stringify({ store: s.store, sync: SYNC }));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: path.join(out, 'home'),
      CKPT_STATE_DIR: path.join(out, `state-${i}`),
      ...c.env,
      ...s.env,
    };
    const modes = s.fails ? [['--json', '--debug']] : [['--verbose'], ['--json', '--debug']];
    const flag = typeof s.store === 'string' ? ['--store', s.store] : [];
    for (const mode of modes) {
      for (const command of s.beforeStore ? [['ls']] : commands(`dst-${i}`)) {
        const label = `${s.name}: ckpt ${[...command, ...mode].join(' ')}`;
        const run = await ckpt(label, [...command, '-c', config, ...flag, ...mode], { cwd: out, env });
        runs.push(run);
        const problem = unexpected(run, s.fails);
        if (problem) problems.push(`${label}: ${problem}`);
      }
    }
  };
  const numbered = c.scenarios.map((s, i) => [s, i] as const);
  for (const [s, i] of numbered.filter(([s]) => !s.fails)) await runScenario(s, i);
  await inParallel(
    numbered.filter(([s]) => s.fails),
    PARALLEL,
    ([s, i]) => runScenario(s, i),
  );

  const pieces = piecesOf(c.secrets);
  for (const run of runs) {
    for (const [stream, text] of [
      ['stdout', run.stdout],
      ['stderr', run.stderr],
    ] as const) {
      const hit = findPiece(text, pieces);
      if (hit) problems.push(`${run.label}: a secret on ${stream}: ${hit}`);
    }
  }
  let files = 0;
  let bytes = 0;
  for (const dir of [out, ...c.storedDirs]) {
    for (const [file, content] of await filesUnder(dir)) {
      files++;
      bytes += content.length;
      const hit = findPiece(content.toString('latin1'), pieces);
      if (hit) problems.push(`${file}: a secret: ${hit}`);
    }
  }
  return { runs: runs.length, files, bytes, problems };
}

/** What is wrong with how `run` ended, if anything. */
function unexpected(run: Run, fails: RegExp | undefined): string | undefined {
  if (run.signal) return `killed by ${run.signal}: it hung`;
  if (!fails) return run.status === 0 ? undefined : `exit ${run.status}: ${run.stderr}`;
  if (run.status === 0) return 'exit 0, expected a failure';
  return fails.test(run.stderr) ? undefined : `expected an error matching ${fails}: ${run.stderr}`;
}

function ckpt(label: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  return new Promise<Run>((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { ...options, timeout: 120_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.on('error', reject);
    child.on('close', (status, signal) => resolve({ label, status, signal, stdout, stderr }));
  });
}

async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>) {
  const queue = [...items];
  const worker = async () => {
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) await run(item);
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

/** Every run of {@link PIECE} characters in each secret's lines (a PEM key's lines, say). */
function piecesOf(secrets: string[]): Set<string> {
  const pieces = new Set<string>();
  for (const line of secrets.flatMap((secret) => secret.split(/\s+/)).filter(Boolean)) {
    if (line.length <= PIECE) pieces.add(line);
    for (let i = 0; i + PIECE <= line.length; i++) pieces.add(line.slice(i, i + PIECE));
  }
  return pieces;
}

/** The first piece of a secret in `text`, with what surrounds it. */
function findPiece(text: string, pieces: Set<string>): string | undefined {
  const lengths = [...new Set([...pieces].map((piece) => piece.length))];
  for (let i = 0; i < text.length; i++) {
    for (const length of lengths) {
      if (pieces.has(text.slice(i, i + length))) {
        return JSON.stringify(text.slice(Math.max(0, i - 40), i + length + 40));
      }
    }
  }
  return undefined;
}

/** Every file under `dir`, with its bytes. */
async function filesUnder(dir: string): Promise<[string, Buffer][]> {
  const found: [string, Buffer][] = [];
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = path.join(entry.parentPath, entry.name);
    found.push([file, await readFile(file)]);
  }
  return found;
}

/** A server on 127.0.0.1 that reads whatever arrives and never answers, for the tests of one file. */
export function useSilentServer(): { readonly port: number } {
  const server = createServer((socket) => {
    sockets.add(socket.on('data', () => {}).on('close', () => sockets.delete(socket)));
  });
  const sockets = new Set<Socket>();
  beforeAll(() => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)));
  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return {
    get port() {
      return (server.address() as { port: number }).port;
    },
  };
}
