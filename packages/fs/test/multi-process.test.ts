import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readAll } from '@ckpt/core/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { lockFile } from '../src/lock.js';
import { tempRoot } from './helpers.js';

const worker = fileURLToPath(new URL('./workers/store-worker.mjs', import.meta.url));
const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  out: string;
  err: string;
}

function run(args: string[], onLine?: (line: string, kill: () => void) => void): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [worker, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d;
      for (const line of d.toString().split('\n').filter(Boolean))
        onLine?.(line, () => child.kill('SIGKILL'));
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d;
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
}

function resultOf(r: Run) {
  expect(r.code, r.err).toBe(0);
  return JSON.parse(r.out.trim().split('\n').at(-1) ?? '{}');
}

describe('FsStore across processes (against the built dist)', () => {
  beforeAll(() => {
    if (!existsSync(dist)) throw new Error(`build @ckpt/fs first (${dist} is missing): npx turbo run build`);
  });

  it('create-only: of four processes racing on each key, exactly one wins', async () => {
    const root = await tempRoot();
    const keys = 40;
    const startAt = String(Date.now() + 700);
    const runs = await Promise.all(
      ['w0', 'w1', 'w2', 'w3'].map((id) => run(['create', root, startAt, id, String(keys)])),
    );
    const wins = runs.map((r) => resultOf(r).won as number[]);
    const winners = new Map<number, number>();
    wins.forEach((won, w) => {
      for (const i of won) {
        expect(winners.has(i), `key ${i} won twice`).toBe(false);
        winners.set(i, w);
      }
    });
    expect(winners.size).toBe(keys);
    for (const [i, w] of winners)
      expect(await readFile(path.join(root, 'race', String(i)), 'utf8')).toBe(`w${w}`);
    expect(await readdir(path.join(root, '.ckpt-fs', 'tmp'))).toEqual([]);
    expect(await readdir(path.join(root, '.ckpt-fs', 'locks'))).toEqual([]);
  });

  it('compare-and-swap: four processes incrementing one counter lose no update', async () => {
    const root = await tempRoot();
    await new FsStore({ root }).put('counter', Buffer.from('0'));
    // a lock left by a crashed process: all four find it stale at once and must break it only once
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const owner = {
      pid: Number(dead.stdout.toString()),
      host: hostname(),
      time: Date.now() - 5000,
      token: 'x',
    };
    await writeFile(lockFile(path.join(root, '.ckpt-fs', 'locks'), 'counter'), JSON.stringify(owner));
    const each = 15;
    const startAt = String(Date.now() + 700);
    const runs = await Promise.all(
      ['w0', 'w1', 'w2', 'w3'].map((id) => run(['cas', root, startAt, id, String(each)])),
    );
    const conflicts = runs.map((r) => resultOf(r).conflicts as number).reduce((a, b) => a + b, 0);
    expect(await readFile(path.join(root, 'counter'), 'utf8')).toBe(String(4 * each));
    // the race was real: some writers had to retry
    expect(conflicts).toBeGreaterThan(0);
    expect(await readdir(path.join(root, '.ckpt-fs', 'locks'))).toEqual([]);
  });

  it('a writer killed mid-put leaves the old object and a temp file that is swept later', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await store.put('victim', Buffer.from('intact'));
    const killed = await run(['crash', root, '0', 'w'], (line, kill) => {
      if (line.includes('writing')) kill();
    });
    expect(killed.signal).toBe('SIGKILL');
    const tmp = path.join(root, '.ckpt-fs', 'tmp');
    const [left] = await readdir(tmp);
    expect(left).toMatch(/\.tmp$/);
    expect((await readAll((await store.get('victim')).body)).toString()).toBe('intact');
    const listed: string[] = [];
    for await (const meta of store.list()) listed.push(meta.key);
    expect(listed).toEqual(['victim']);
    const old = new Date(Date.now() - 2 * 3600_000);
    await utimes(path.join(tmp, left!), old, old);
    await new FsStore({ root }).put('other', Buffer.from('x')); // a new store sweeps on its first write
    expect(await readdir(tmp)).toEqual([]);
  });
});
