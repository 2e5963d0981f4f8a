import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';

// The hooks of config.yaml run end to end: the real `ckpt` command (packages/cli) on a real
// filesystem store, and a stand-in for podman (no container engine runs in CI) that writes
// CRIU-like checkpoints and accepts on restore only the exact bytes it wrote.

const example = resolve(import.meta.dirname, '..');
const repo = resolve(example, '../..');
const ckptJs = join(repo, 'packages/cli/bin/ckpt.js');
const MODEL = 'facebook/opt-125m';
const OTHER = 'Qwen/Qwen2.5-3B-Instruct';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs a shell command and resolves once it exited and its stdout and stderr closed, as llmux waits. */
function sh(command: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const started = performance.now();
  return new Promise((done, fail) => {
    const child = spawn('bash', ['-c', command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

async function ok(command: string, env: NodeJS.ProcessEnv): Promise<Run> {
  const run = await sh(command, env);
  if (run.code !== 0) throw new Error(`${command} exited ${run.code}\n${run.stderr}${run.stdout}`);
  return run;
}

function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.on('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}

const sha256 = async (file: string) =>
  createHash('sha256')
    .update(await readFile(file))
    .digest('hex');

let work: string;
let bin: string;
let ledger: string;
type Hooks = { port: number; sleep: string; wake: string; alive: string };
/**
 * config.yaml's hooks, pointed at this checkout and at free ports. Like llmux's config, they are
 * the same on every host, and a checkpoint restores the container's port mapping, so the "hosts"
 * of a test, which share this machine's ports, never run the same model at once (`down`).
 */
let hooks: Record<string, Hooks>;

beforeAll(async () => {
  const config: { models: Record<string, Hooks> } = parse(
    await readFile(join(example, 'config.yaml'), 'utf8'),
  );
  hooks = {};
  for (const [name, model] of Object.entries(config.models)) {
    const port = await freePort();
    const adapt = (command: string) =>
      command
        .replaceAll('/etc/llmux/hooks/', `${example}/hooks/`)
        .replaceAll(new RegExp(`\\b${model.port}\\b`, 'g'), String(port));
    hooks[name] = { port, sleep: adapt(model.sleep), wake: adapt(model.wake), alive: adapt(model.alive) };
    expect(hooks[name]!.wake).toContain(`127.0.0.1:${port}/health`);
  }
});

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'ckpt-llmux-'));
  bin = join(work, 'bin');
  ledger = join(work, 'ledger');
  await mkdir(bin);
  await symlink(join(example, 'standin/podman'), join(bin, 'podman'));
  await symlink(ckptJs, join(bin, 'ckpt'));
  // `ckpt push` waits for a gate file when CKPT_TEST_GATE names one: the only way to hold a push
  // back at a known point without timing
  await writeFile(
    join(bin, 'ckpt-gated'),
    `#!/usr/bin/env bash\nif [[ $1 == push && -n \${CKPT_TEST_GATE:-} ]]; then\n  : >"$CKPT_TEST_GATE.waiting"\n  until [[ -e $CKPT_TEST_GATE ]]; do sleep 0.05; done\nfi\nexec node ${JSON.stringify(ckptJs)} "$@"\n`,
  );
  await chmod(join(bin, 'ckpt-gated'), 0o755);
});

const hosts: string[] = [];
afterAll(async () => {
  // the stand-in's model servers are the only processes the hooks leave running
  for (const host of hosts) {
    const containers = join(host, 'podman/containers');
    for (const name of existsSync(containers) ? await readdir(containers) : []) {
      const pid = await readFile(join(containers, name, 'server.pid'), 'utf8').catch(() => '');
      try {
        if (pid) process.kill(Number(pid), 'SIGTERM');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
      }
    }
  }
  await rm(work, { recursive: true, force: true });
});

/** A machine of its own: local checkpoint directories, container storage, ckpt's local records. */
async function host(name: string, store: string, extra: NodeJS.ProcessEnv = {}) {
  const dir = join(work, name);
  hosts.push(dir);
  await mkdir(dir);
  // a store exists before hosts use it: ckpt never takes a missing store for an empty one
  await mkdir(store, { recursive: true }).catch(() => undefined);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}:${process.env.PATH}`,
    CKPT_STORE: `file://${store}`,
    CKPT_LLMUX_ROOT: join(dir, 'llmux'),
    CKPT_STATE_DIR: join(dir, 'state'),
    PODMAN_STANDIN_ROOT: join(dir, 'podman'),
    PODMAN_STANDIN_LEDGER: ledger,
    PODMAN_STANDIN_SIZE: '8MiB',
    ...extra,
  };
  const hook = (model: string, which: 'sleep' | 'wake' | 'alive', more: NodeJS.ProcessEnv = {}) =>
    sh(hooks[model]![which], { ...env, ...more });
  return {
    dir,
    env,
    hook,
    /** Removes this host's containers: another host may run the same models on the same ports now. */
    down: async () => {
      const containers = join(dir, 'podman/containers');
      for (const name of existsSync(containers) ? await readdir(containers) : []) {
        await ok(`podman rm -f ${name}`, env);
      }
    },
    /** What the stand-in did on this host: `run <ctr>`, `checkpoint <ctr> <version>`, `restore <ctr> <sha> <ctr> <version>`… */
    events: async () =>
      (await readFile(join(dir, 'podman/events'), 'utf8').catch(() => '')).trim().split('\n'),
    /** The checkpoint versions restored on this host, in order. */
    restored: async () =>
      (await readFile(join(dir, 'podman/events'), 'utf8').catch(() => ''))
        .split('\n')
        .filter((line) => line.startsWith('restore '))
        .map((line) => Number(line.split(' ').at(-1))),
  };
}

/** The checkpoint version (per the stand-in's ledger) of every generation of a model in the store, oldest first. */
async function storedVersions(store: string, model: string): Promise<number[]> {
  const reader = await host(`reader-${hosts.length}`, store);
  const listed = JSON.parse((await ok(`ckpt ls ${model} --json`, reader.env)).stdout);
  const lines = (await readFile(ledger, 'utf8')).trim().split('\n');
  const versions: number[] = [];
  for (const { generation } of listed.generations) {
    const into = join(reader.dir, generation);
    await ok(`ckpt pull ${model} ${into} --generation ${generation} --quiet`, reader.env);
    const sum = await sha256(join(into, 'checkpoint.tar'));
    const line = lines.find((l) => l.startsWith(`${sum} `));
    if (!line) throw new Error(`generation ${generation} holds an archive the stand-in never wrote`);
    versions.push(Number(line.split(' ')[2]));
  }
  return versions;
}

const manifests = async (store: string, model: string) =>
  (await readdir(join(store, 'ckpt/models', model)).catch(() => [] as string[])).filter((name) =>
    name.endsWith('.json'),
  ).length;
const leases = async (store: string) =>
  (await readdir(join(store, 'ckpt/pushes')).catch(() => [] as string[])).length;

async function until(what: string, check: () => Promise<boolean>, ms = 60_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('the llmux hooks with ckpt (podman is a stand-in)', () => {
  it('cold-starts, sleeps (checkpoint + push), and wakes on another host from the store with the same bytes', async () => {
    const store = join(work, 'store-1');
    const a = await host('a', store, { CKPT_PUSH: 'foreground' });
    expect((await a.hook(MODEL, 'alive')).code).not.toBe(0);
    const cold = await a.hook(MODEL, 'wake');
    expect(cold.code, cold.stderr).toBe(0);
    expect(cold.stderr).toContain('no checkpoint in the store');
    expect(await a.events()).toEqual(['run llmux-opt-125m']);
    expect((await a.hook(MODEL, 'alive')).code).toBe(0);

    const slept = await a.hook(MODEL, 'sleep');
    expect(slept.code, slept.stderr).toBe(0);
    expect((await a.hook(MODEL, 'alive')).code).not.toBe(0);
    expect(await manifests(store, 'opt-125m')).toBe(1);

    // another machine: nothing local, the same store
    const b = await host('b', store, { CKPT_PUSH: 'foreground' });
    const woke = await b.hook(MODEL, 'wake');
    expect(woke.code, woke.stderr).toBe(0);
    expect(woke.stderr).toMatch(/pulled in \d+ ms/);
    expect(await b.restored()).toEqual([0]);
    expect((await b.hook(MODEL, 'alive')).code).toBe(0);

    // and on: b's next checkpoint (version 1) reaches a third machine
    expect((await b.hook(MODEL, 'sleep')).code).toBe(0);
    const c = await host('c', store);
    expect((await c.hook(MODEL, 'wake')).code).toBe(0);
    expect(await c.restored()).toEqual([1]);
    await c.down();
    expect(await storedVersions(store, 'opt-125m')).toEqual([0, 1]);
  });

  it('returns from sleep before the background push starts, and the push lands later', async () => {
    const store = join(work, 'store-2');
    const gate = join(work, 'gate');
    const d = await host('d', store, { CKPT: 'ckpt-gated', CKPT_TEST_GATE: gate });
    expect((await d.hook(OTHER, 'wake')).code).toBe(0);
    // the push waits at the gate: the hook can only have returned without waiting for it, and
    // `sh` resolves only once the hook's stdout and stderr closed (a push holding them would hang)
    const slept = await d.hook(OTHER, 'sleep');
    expect(slept.code, slept.stderr).toBe(0);
    expect(slept.stderr).toContain('push: background');
    expect(await manifests(store, 'qwen2.5-3b')).toBe(0);

    // the background push is under way (it holds its lock) before the gate opens: a busy machine
    // may start it after the hook returned, and drain would then push the checkpoint itself
    await vi.waitFor(() => expect(existsSync(`${gate}.waiting`)).toBe(true), {
      timeout: 30_000,
      interval: 50,
    });
    await writeFile(gate, '');
    await ok(`${example}/hooks/drain.sh`, d.env);
    expect(await storedVersions(store, 'qwen2.5-3b')).toEqual([0]);
    const log = await readFile(join(d.dir, 'llmux/.qwen2.5-3b.push.log'), 'utf8');
    expect(log).toMatch(/pushed in \d+ ms/);
  });

  it('while a background push runs: other hosts pull the previous generation whole, this host restores its newest checkpoint, later sleeps queue and the newest wins', async () => {
    const store = join(work, 'store-3');
    // large and incompressible enough that the push is still running when it is stopped
    const size = { PODMAN_STANDIN_SIZE: '32MiB', PODMAN_STANDIN_PRESET: 'mostly-random' };
    const e = await host('e', store, size);
    expect((await e.hook(MODEL, 'wake')).code).toBe(0); // cold
    expect((await e.hook(MODEL, 'sleep', { CKPT_PUSH: 'foreground' })).code).toBe(0); // version 0, pushed
    expect((await e.hook(MODEL, 'wake')).code).toBe(0); // restores version 0 from the local copy
    expect(await e.restored()).toEqual([0]);

    // version 1: the sleep returns, the push starts; stop it once it holds its lease in the store
    expect((await e.hook(MODEL, 'sleep')).code).toBe(0);
    await until('the background push took its lease', async () => (await leases(store)) > 0);
    const pid = Number(await readFile(join(e.dir, 'llmux/.opt-125m.push.pid'), 'utf8'));
    process.kill(pid, 'SIGSTOP');
    try {
      expect(await manifests(store, 'opt-125m')).toBe(1); // in flight: not committed

      // another host sees the previous generation, complete and verified
      const f = await host('f', store);
      expect((await f.hook(MODEL, 'wake')).code).toBe(0);
      expect(await f.restored()).toEqual([0]);
      await f.down();

      // this host restores its newest checkpoint, which is still uploading
      expect((await e.hook(MODEL, 'wake')).code).toBe(0);
      expect(await e.restored()).toEqual([0, 1]);

      // two more sleeps while the push is stopped: each returns without waiting for it; version 3
      // supersedes 2, which no push ever takes
      const second = await e.hook(MODEL, 'sleep');
      expect(second.code, second.stderr).toBe(0);
      expect((await e.hook(MODEL, 'wake')).code).toBe(0);
      expect(await e.restored()).toEqual([0, 1, 2]);
      expect((await e.hook(MODEL, 'sleep')).code).toBe(0);
      expect(await manifests(store, 'opt-125m')).toBe(1);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await ok(`${example}/hooks/drain.sh`, e.env);
    expect(await leases(store)).toBe(0);
    expect(await storedVersions(store, 'opt-125m')).toEqual([0, 1, 3]);
    const g = await host('g', store);
    expect((await g.hook(MODEL, 'wake')).code).toBe(0);
    expect(await g.restored()).toEqual([3]);
    await g.down();
  });

  it('sleeps two models at once and wakes both elsewhere', async () => {
    const store = join(work, 'store-4');
    const h = await host('h', store);
    expect((await Promise.all([h.hook(MODEL, 'wake'), h.hook(OTHER, 'wake')])).map((r) => r.code)).toEqual([
      0, 0,
    ]);
    const slept = await Promise.all([h.hook(MODEL, 'sleep'), h.hook(OTHER, 'sleep')]);
    expect(slept.map((r) => r.code)).toEqual([0, 0]);
    await ok(`${example}/hooks/drain.sh`, h.env);

    const i = await host('i', store);
    const woke = await Promise.all([i.hook(MODEL, 'wake'), i.hook(OTHER, 'wake')]);
    expect(woke.map((r) => r.code)).toEqual([0, 0]);
    expect(await storedVersions(store, 'opt-125m')).toEqual([0]);
    expect(await storedVersions(store, 'qwen2.5-3b')).toEqual([0]);
    const restores = (await i.events()).filter((e) => e.startsWith('restore ')).map((e) => e.split(' ')[1]);
    expect(restores.sort()).toEqual(['llmux-opt-125m', 'llmux-qwen2.5-3b']);
    await i.down();
  });

  it('frees the GPU when the push fails, and wakes here from the checkpoint it kept', async () => {
    // a store that cannot be written: /dev/null is no directory
    const k = await host('k', '/dev/null/store', { CKPT_PUSH: 'foreground' });
    expect((await k.hook(MODEL, 'wake')).code).toBe(0);
    const slept = await k.hook(MODEL, 'sleep');
    expect(slept.code, slept.stderr).toBe(0);
    expect(slept.stderr).toContain('push failed');
    expect((await k.hook(MODEL, 'alive')).code).not.toBe(0);
    const woke = await k.hook(MODEL, 'wake');
    expect(woke.code, woke.stderr).toBe(0);
    expect(await k.restored()).toEqual([0]);
    await k.down();
  });

  it('cold-starts when the local checkpoint does not restore', async () => {
    const j = await host('j', join(work, 'store-5'), { CKPT_PUSH: 'off' });
    expect((await j.hook(MODEL, 'wake')).code).toBe(0);
    expect((await j.hook(MODEL, 'sleep')).code).toBe(0);
    const archive = join(j.dir, 'llmux/.opt-125m.next/checkpoint.tar');
    const bytes = await readFile(archive);
    bytes[bytes.length >> 1]! ^= 1;
    await writeFile(archive, bytes);
    const woke = await j.hook(MODEL, 'wake');
    expect(woke.code, woke.stderr).toBe(0);
    expect(woke.stderr).toContain('restore from');
    expect(woke.stderr).toMatch(/cold-started in \d+ ms/);
    expect(await j.events()).toEqual([
      'run llmux-opt-125m',
      'checkpoint llmux-opt-125m 0',
      'rm llmux-opt-125m',
      'run llmux-opt-125m',
    ]);
    await j.down();
  });
});
