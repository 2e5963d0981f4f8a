import { spawn } from 'node:child_process';
import { cp, lstat, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readTree, type TreeEntry } from '@ckpt/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// Runs workflow.yml's jobs the way GitHub Actions would, on this machine: each job in a fresh
// workspace (the repository's examples/ and packages/ linked in) with its own RUNNER_TEMP and ckpt
// state directory, its `run` steps in bash -eo pipefail with the workflow's env and ${{ }}
// expressions filled in, and actions/cache emulated by copying the cached path to and from a
// table of immutable entries (exact key, else the newest entry matching a restore key). The ckpt
// command, store and script are the real ones.

const example = resolve(import.meta.dirname, '..');
const repo = resolve(example, '../..');

interface Step {
  name?: string;
  id?: string;
  uses?: string;
  run?: string;
  if?: string;
  with?: Record<string, string | number | boolean>;
  env?: Record<string, string>;
}
interface Workflow {
  env: Record<string, string>;
  jobs: Record<string, { needs?: string | string[]; steps: Step[] }>;
}

let workflow: Workflow;
let work: string;
/** actions/cache: key → saved copy, in the order saved. */
const cache = new Map<string, string>();

beforeAll(async () => {
  workflow = parse(await readFile(join(example, 'workflow.yml'), 'utf8'));
  work = await mkdtemp(join(tmpdir(), 'ckpt-ci-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

function bash(
  script: string,
  env: NodeJS.ProcessEnv,
  cwd: string,
): Promise<{ code: number | null; out: string }> {
  return new Promise((done, fail) => {
    const child = spawn('bash', ['--noprofile', '--norc', '-eo', 'pipefail', '-c', script], { env, cwd });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    child.on('error', fail);
    child.on('close', (code) => done({ code, out }));
  });
}

async function du(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) bytes += (await lstat(join(entry.parentPath, entry.name))).size;
  }
  return bytes;
}

interface JobRun {
  workspace: string;
  temp: string;
  outputs: Record<string, Record<string, string>>;
  log: string;
}

/** Runs one job of the workflow as run number `run`; returns its workspace and step outputs. */
async function runJob(name: string, run: number): Promise<JobRun> {
  const job = workflow.jobs[name]!;
  const root = join(work, `run${run}-${name}`);
  const workspace = join(root, 'workspace');
  const temp = join(root, 'runner-temp');
  await mkdir(workspace, { recursive: true });
  await mkdir(temp);
  // a checkout, without copying the repository: the workflow reads examples/ and packages/ only
  await symlink(join(repo, 'examples'), join(workspace, 'examples'));
  await symlink(join(repo, 'packages'), join(workspace, 'packages'));
  const outputs: Record<string, Record<string, string>> = {};
  const github: Record<string, string> = {
    'github.workspace': workspace,
    'github.ref_name': 'main',
    'github.run_id': String(4_200_000 + run),
    'github.run_attempt': '1',
    'github.run_number': String(run),
  };
  const expand = (text: string) =>
    text.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
      if (expr in github) return github[expr]!;
      throw new Error(`the emulation does not know \${{ ${expr} }}`);
    });
  const condition = (expr: string) => {
    const match = /^steps\.([\w-]+)\.outputs\.([\w-]+) == '([^']*)'$/.exec(expr.trim());
    if (!match) throw new Error(`the emulation does not evaluate if: ${expr}`);
    return outputs[match[1]!]?.[match[2]!] === match[3];
  };
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    GITHUB_WORKSPACE: workspace,
    RUNNER_TEMP: temp,
    GITHUB_RUN_ID: github['github.run_id'],
    GITHUB_SHA: `sha-of-run-${run}`,
    CKPT_STATE_DIR: join(root, 'ckpt-state'), // a fresh runner: no local records
  };
  for (const [key, value] of Object.entries(workflow.env)) baseEnv[key] = expand(value);
  let log = '';

  for (const [index, step] of job.steps.entries()) {
    if (step.if !== undefined && !condition(step.if)) continue;
    const inputs = Object.fromEntries(
      Object.entries(step.with ?? {}).map(([k, v]) => [k, expand(String(v))]),
    );
    if (step.uses?.startsWith('actions/checkout@') || step.uses?.startsWith('actions/setup-node@')) continue;
    if (step.uses?.startsWith('actions/cache/restore@')) {
      const prefixes = (inputs['restore-keys'] ?? '').split('\n').filter(Boolean);
      const hit =
        (cache.has(inputs.key!) && inputs.key!) ||
        prefixes.map((p) => [...cache.keys()].reverse().find((k) => k.startsWith(p))).find(Boolean);
      if (!hit && inputs['fail-on-cache-miss'] === 'true') throw new Error(`cache miss for ${inputs.key}`);
      if (hit) await cp(cache.get(hit)!, join(workspace, inputs.path!), { recursive: true });
      continue;
    }
    if (step.uses?.startsWith('actions/cache/save@')) {
      if (cache.has(inputs.key!)) throw new Error(`a cache entry ${inputs.key} exists already`);
      const saved = join(work, 'cache', `${cache.size}`);
      await cp(join(workspace, inputs.path!), saved, { recursive: true });
      cache.set(inputs.key!, saved);
      continue;
    }
    if (step.uses) throw new Error(`the emulation does not run ${step.uses}`);
    // the dependencies are installed and built already (pnpm test builds first)
    if (step.name === 'Install ckpt') continue;
    const outputFile = join(root, `output-${index}`);
    await writeFile(outputFile, '');
    const env: NodeJS.ProcessEnv = { ...baseEnv, GITHUB_OUTPUT: outputFile };
    for (const [key, value] of Object.entries(step.env ?? {})) env[key] = expand(value);
    const result = await bash(expand(step.run!), env, workspace);
    log += `== ${step.name ?? step.run}\n${result.out}`;
    if (result.code !== 0)
      throw new Error(`step ${step.name ?? index} of ${name} exited ${result.code}\n${log}`);
    if (step.id) {
      const lines = (await readFile(outputFile, 'utf8')).split('\n').filter(Boolean);
      outputs[step.id] = Object.fromEntries(
        lines.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
      );
    }
  }
  return { workspace, temp, outputs, log };
}

async function ckptJson(args: string, store: string) {
  const env = {
    ...process.env,
    CKPT: join(repo, 'packages/cli/bin/ckpt.js'),
    CKPT_STORE: `file://${store}`,
    CKPT_STATE_DIR: join(work, 'inspect-state'),
  };
  const result = await bash(`"$CKPT" ${args} --json`, env, work);
  expect(result.code, result.out).toBe(0);
  return JSON.parse(result.out);
}

describe('the CI workflow (GitHub Actions, emulated here) with a ckpt store in actions/cache', () => {
  it('passes the checkpoint from job to job and from run to run, keeping three generations', async () => {
    expect(Object.keys(workflow.jobs)).toEqual(['checkpoint', 'use']);
    expect(workflow.jobs.use!.needs).toBe('checkpoint');

    let previous: Record<string, TreeEntry> | undefined;
    let firstStored = 0;
    for (let run = 1; run <= 5; run++) {
      const made = await runJob('checkpoint', run);
      // the first run finds no checkpoint; later ones pull exactly what the previous run made
      expect(made.outputs.previous).toEqual({ found: run === 1 ? 'false' : 'true' });
      if (previous) expect(await readTree(join(made.temp, 'previous'))).toEqual(previous);
      const checkpoint = await readTree(join(made.temp, 'checkpoint'));

      const used = await runJob('use', run);
      expect(used.outputs.pull).toEqual({ found: 'true' });
      expect(used.log).toContain('== Restore from it');
      expect(await readTree(join(used.temp, 'checkpoint'))).toEqual(checkpoint);
      previous = checkpoint;

      const listed = await ckptJson('ls warm-server', join(used.workspace, '.ckpt-store'));
      expect(listed.generations).toHaveLength(Math.min(run, 3));
      expect(listed.generations.at(-1).labels.run).toBe(String(4_200_000 + run));
      if (run === 1) firstStored = await du(join(used.workspace, '.ckpt-store'));
    }
    // gc expires a generation and frees its data a run later (a removed generation's record goes
    // in the next pass, even with no grace): the saved cache holds only the generation this run
    // expired besides the three it keeps, and they cost far less than three full copies
    const last = [...cache.values()].at(-1)!;
    const unreferenced = await ckptJson('gc --dry-run --grace 0s --force', last);
    expect(unreferenced).toMatchObject({
      packsDeleted: 0,
      packsInGrace: 0,
      expiredGenerations: [],
      purgedGenerations: 1,
    });
    expect(unreferenced.packsLive).toBeGreaterThan(0);
    expect(await du(last)).toBeLessThan(2 * firstStored);
  });
});
