import { spawnSync } from 'node:child_process';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { FsStore } from '../src/index.js';
import { lockFile } from '../src/lock.js';
import { expectCode, tempRoot } from './helpers.js';

/** A pid that certainly belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString());
}

async function plantLock(root: string, key: string, owner: { pid: number; host?: string; time: number }) {
  const dir = path.join(root, '.ckpt-fs', 'locks');
  await mkdir(dir, { recursive: true });
  const file = lockFile(dir, key);
  await writeFile(file, JSON.stringify({ host: hostname(), token: 'planted', ...owner }));
  return file;
}

describe('FsStore key locks', () => {
  it('breaks a lock whose owner process is dead', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    const put = await store.put('k', Buffer.from('v1'));
    await plantLock(root, 'k', { pid: deadPid(), time: Date.now() - 2000 });
    const started = Date.now();
    await store.put('k', Buffer.from('v2'), { mode: { update: put.version } });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await readdir(path.join(root, '.ckpt-fs', 'locks'))).toEqual([]);
  });

  it('waits for a live lock, then takes it once released', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    const file = await plantLock(root, 'k', { pid: process.pid, time: Date.now() });
    let done = false;
    const put = store.put('k', Buffer.from('v')).then(() => {
      done = true;
    });
    await sleep(150);
    expect(done).toBe(false);
    const { unlink } = await import('node:fs/promises');
    await unlink(file);
    await put;
    expect(done).toBe(true);
  });

  it('breaks a live owner lock older than staleLockMs, and one of another host by age only', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root, staleLockMs: 300 });
    await plantLock(root, 'k', { pid: process.pid, time: Date.now() - 5000 });
    await store.put('k', Buffer.from('v'));
    await plantLock(root, 'k', { pid: deadPid(), host: 'another-host', time: Date.now() });
    const started = Date.now();
    await store.delete('k');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    await expectCode(store.head('k'), 'NotFound');
  });

  it('abort while waiting for a lock fails Aborted and leaves no temp file', async () => {
    const root = await tempRoot();
    const store = new FsStore({ root });
    await plantLock(root, 'k', { pid: process.pid, time: Date.now() });
    await expectCode(store.put('k', Buffer.from('v'), { signal: AbortSignal.timeout(100) }), 'Aborted');
    expect(await readdir(path.join(root, '.ckpt-fs', 'tmp'))).toEqual([]);
    await expectCode(store.head('k'), 'NotFound');
  });

  it('sweeps stale locks (and break guards) of crashed processes when a store starts writing', async () => {
    const root = await tempRoot();
    const stale = await plantLock(root, 'old', { pid: deadPid(), time: Date.now() - 10_000 });
    await writeFile(
      `${stale}.break`,
      JSON.stringify({ pid: deadPid(), host: hostname(), time: 0, token: 't' }),
    );
    const live = await plantLock(root, 'busy', { pid: process.pid, time: Date.now() });
    await new FsStore({ root }).put('other', Buffer.from('x'));
    expect(await readdir(path.join(root, '.ckpt-fs', 'locks'))).toEqual([path.basename(live)]);
  });
});
