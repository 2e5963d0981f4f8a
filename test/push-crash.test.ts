// A push killed with SIGKILL at random moments never damages the committed checkpoint, and never
// shows up as a generation. Runs the real engine in a child process against a real FsStore.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Checkpoints } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { readTree, seededBytes } from '@ckpt/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';

const child = path.join(import.meta.dirname, 'fixtures/push-child.mjs');
let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-crash-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function makeVersion(dir: string, seed: number) {
  await mkdir(path.join(dir, 'rootfs/cache'), { recursive: true });
  await writeFile(
    path.join(dir, 'pages-1.img'),
    Buffer.concat([seededBytes(24 << 20, seed), Buffer.alloc(8 << 20), seededBytes(8 << 20, seed + 1)]),
  );
  for (let i = 0; i < 60; i++)
    await writeFile(path.join(dir, `core-${i}.img`), seededBytes(300 + i, seed * 100 + i));
  await writeFile(path.join(dir, 'rootfs/cache/k.bin'), seededBytes(3 << 20, seed + 2));
}

function runPush(root: string, dir: string, killAfterMs: number): Promise<{ killed: boolean; out: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [child, root, 'model', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let errors = '';
    proc.stdout.on('data', (d) => {
      out += d;
    });
    // the clock starts when the push does, not when the process does
    let timer: NodeJS.Timeout | undefined;
    proc.stderr.on('data', (d) => {
      errors += d;
      if (!timer && String(d).includes('push')) timer = setTimeout(() => proc.kill('SIGKILL'), killAfterMs);
    });
    proc.on('error', reject);
    proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (signal === 'SIGKILL') resolve({ killed: true, out });
      else if (code === 0) resolve({ killed: false, out });
      else reject(new Error(`push child exited with ${code}: ${errors.trim()}`));
    });
  });
}

it('kill -9 during pushes leaves the committed generation intact and pullable', async () => {
  const root = path.join(work, 'store');
  const v1 = path.join(work, 'v1');
  const v2 = path.join(work, 'v2');
  await makeVersion(v1, 1);
  await makeVersion(v2, 2);
  const first = await runPush(root, v1, 120_000);
  expect(first.killed).toBe(false);
  const committed = JSON.parse(first.out).generation as string;

  // time one undisturbed push of v2 in a copy of the store, to aim the kills inside it
  // as the real pushes run: over v1 (reading its manifest, checking its packs, reusing its chunks)
  await runPush(path.join(work, 'probe-store'), v1, 120_000);
  const probe = await runPush(path.join(work, 'probe-store'), v2, 120_000);
  expect(probe.killed).toBe(false);
  let pushMs = JSON.parse(probe.out).durationMs as number;

  const checkpoints = new Checkpoints(new FsStore({ root }));
  let kills = 0;
  for (let i = 0; i < 8; i++) {
    const at = Math.round(((i + 0.5) / 8) * pushMs * 0.9);
    const run = await runPush(root, v2, at);
    if (!run.killed) {
      // it finished before the kill (a faster moment of a shared machine): aim the next kills
      // by this run, and remove its generation so the next round starts over
      const done = JSON.parse(run.out);
      pushMs = Math.min(pushMs, done.durationMs);
      await checkpoints.delete('model', { generation: done.generation });
      continue;
    }
    kills++;
    const gens = (await checkpoints.generations('model')).map((g) => g.generation);
    expect(gens[0]).toBe(committed);
    // killed after its commit point (while writing the local record): then it is complete
    for (const late of gens.slice(1)) {
      expect((await checkpoints.verify('model', { generation: late })).ok).toBe(true);
      await checkpoints.delete('model', { generation: late });
    }
    expect(gens.length).toBeLessThanOrEqual(2);
    expect(await checkpoints.exists('model')).toBe(true);
  }
  expect(kills).toBeGreaterThanOrEqual(4);
  const dst = path.join(work, 'dst');
  const pulled = await checkpoints.pull('model', dst);
  expect(pulled.generation).toBe(committed);
  expect(await readTree(dst)).toEqual(await readTree(v1));
  expect((await checkpoints.verify('model')).ok).toBe(true);
  // the killed pushes left only unreferenced packs and their leases, which gc removes once the
  // leases have expired (four renewal intervals) and the packs are past the grace period
  await new Promise((r) => setTimeout(r, 4200));
  const packs = async () => {
    const ids: string[] = [];
    for await (const meta of new FsStore({ root }).list('ckpt/packs/')) ids.push(meta.key);
    return ids;
  };
  const before = await packs();
  const gc = await checkpoints.gc({ grace: 0 });
  expect(gc.pushesInFlight).toBe(0);
  expect(gc.packsLive).toBeGreaterThan(0);
  // exactly the killed pushes' packs go: what is left is what the committed generation needs
  expect(gc.packsDeleted).toBe(before.length - gc.packsLive);
  expect((await packs()).length).toBe(gc.packsLive);
  for await (const lease of new FsStore({ root }).list('ckpt/pushes/')) expect.fail(`${lease.key} is left`);
  expect((await checkpoints.verify('model')).ok).toBe(true);
  await checkpoints.close();
}, 300_000);
