// The "secrets" check of the reliability suite, one copy for every backend. Each scenario (good
// credentials, wrong ones, a server that is down or silent, a missing bucket, bad URLs and config
// files) runs every ckpt command as the real binary; then every output and every file ckpt wrote
// (state directories, the pushed and pulled trees, what the server stored) is searched for any
// piece of a secret: a message may quote a few characters of one (V8's JSON errors quote ten).
import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type SilentServer, startSilentServer } from '@ckpt/test-servers';
import { makeCheckpoint } from '@ckpt/test-utils';
import { afterAll, beforeAll } from 'vitest';

const BIN = fileURLToPath(new URL('../packages/cli/bin/ckpt.js', import.meta.url));
/** The shortest piece of a secret searched for. */
const PIECE = 8;
/** Two attempts per request, so the failures that are retried end soon. */
const SYNC = { attempts: 2, retryWithin: '10s' };
/** Scenarios that fail run side by side, this many at once (most of them wait on a timeout). */
const PARALLEL = 4;
const HUMAN = ['--verbose'];
const JSON_DEBUG = ['--json', '--debug'];

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
 * file for the secrets. Working scenarios run one after another; failing ones side by side. The
 * first working scenario runs in both output modes (human with `--verbose`, and `--json --debug`),
 * every other scenario in `--json --debug`: it prints the verbose lines, the JSON result (or the
 * error object), and on a failure the same stderr line as every other mode, and the stack.
 */
export async function checkSecrets(work: string, c: SecretsCase): Promise<SecretsSummary> {
  const out = path.join(work, 'out');
  const inputs = path.join(work, 'inputs');
  await makeCheckpoint(path.join(out, 'src'), { pagesScale: 0.25 });
  await mkdir(path.join(out, 'home'), { recursive: true });
  await mkdir(inputs, { recursive: true });
  const runs: Run[] = [];
  const problems: string[] = [];

  const runScenario = async (s: Scenario, i: number, modes: string[][]) => {
    const config = path.join(inputs, `ckpt.config-${i}.json`);
    await writeFile(config, s.configText ?? JSON.stringify({ store: s.store, sync: SYNC }));
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: path.join(out, 'home'),
      CKPT_STATE_DIR: path.join(out, `state-${i}`),
      ...c.env,
      ...s.env,
    };
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
  const working = numbered.filter(([s]) => !s.fails);
  for (const [k, [s, i]] of working.entries())
    await runScenario(s, i, k === 0 ? [HUMAN, JSON_DEBUG] : [JSON_DEBUG]);
  await inParallel(
    numbered.filter(([s]) => s.fails),
    PARALLEL,
    ([s, i]) => runScenario(s, i, [JSON_DEBUG]),
  );

  const find = secretSearch(c.secrets);
  for (const run of runs) {
    for (const [stream, text] of [
      ['stdout', run.stdout],
      ['stderr', run.stderr],
    ] as const) {
      const hit = find(Buffer.from(text));
      if (hit) problems.push(`${run.label}: a secret on ${stream}: ${hit}`);
    }
  }
  let files = 0;
  let bytes = 0;
  for (const dir of [out, ...c.storedDirs]) {
    for (const [file, content] of await filesUnder(dir)) {
      files++;
      bytes += content.length;
      const hit = find(content);
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

/**
 * A search for every run of {@link PIECE} characters of the secrets' lines (a PEM key's lines,
 * say; shorter lines are not searched): the first one in `bytes`, shown with what surrounds it.
 * Secrets are ASCII; a table of the pieces' first three bytes keeps the scan of stored objects fast.
 */
function secretSearch(secrets: string[]): (bytes: Buffer) => string | undefined {
  const pieces = new Set<string>();
  const heads = new Uint8Array(1 << 24);
  const head = (bytes: Uint8Array, i: number) => (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
  for (const secret of secrets) {
    if (!/^[\x20-\x7e\s]*$/.test(secret)) throw new Error(`not an ASCII secret: ${JSON.stringify(secret)}`);
    for (const line of secret.split(/\s+/)) {
      for (let i = 0; i + PIECE <= line.length; i++) {
        const piece = line.slice(i, i + PIECE);
        pieces.add(piece);
        heads[head(Buffer.from(piece, 'latin1'), 0)] = 1;
      }
    }
  }
  return (bytes) => {
    for (let i = 0; i + PIECE <= bytes.length; i++) {
      if (heads[head(bytes, i)] && pieces.has(bytes.toString('latin1', i, i + PIECE))) {
        return JSON.stringify(bytes.toString('latin1', Math.max(0, i - 40), i + PIECE + 40));
      }
    }
    return undefined;
  };
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
  let server: SilentServer | undefined;
  beforeAll(async () => {
    server = await startSilentServer();
  });
  afterAll(() => server?.stop());
  return {
    get port() {
      if (!server) throw new Error('useSilentServer: the server starts in beforeAll');
      return server.port;
    },
  };
}
