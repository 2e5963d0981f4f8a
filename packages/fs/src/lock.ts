import { createHash, randomUUID } from 'node:crypto';
import { open, readdir, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '@ckpt/core';
import { errnoOf, throwIfAborted } from '@ckpt/core/backend';

/**
 * Per-key locks that work across processes: a lock is a file created with `O_EXCL` in the
 * store's lock folder, holding who owns it. Writers hold it only to check-and-rename (never while
 * streaming data), so it is held for milliseconds.
 *
 * A lock is stale when it is older than `staleMs`, or when its owner ran on this host and its pid
 * is gone (after a 1 s grace: a pid from another PID namespace may look dead here). Stale locks are
 * broken under a second `O_EXCL` guard file, and only after re-reading the lock under that guard, so
 * two processes that both judged it stale cannot delete a fresh lock taken in between.
 *
 * Limit: a live owner that stalls inside its critical section for longer than `staleMs` (a stopped
 * process, a hung NFS server) loses its lock; keep `staleMs` well above any such stall.
 */
export interface KeyLockOptions {
  staleMs: number;
  operation: string;
  key: string;
  signal?: AbortSignal;
}

interface Owner {
  pid: number;
  host: string;
  time: number;
  token: string;
}

interface SeenLock {
  ino: number;
  mtimeMs: number;
  owner?: Owner;
}

const DEAD_PID_GRACE_MS = 1000;
const MAX_WAIT_STEP_MS = 50;

/** Runs `fn` while holding the lock of `options.key` in `lockDir`. */
export async function withKeyLock<T>(
  lockDir: string,
  options: KeyLockOptions,
  fn: () => Promise<T>,
): Promise<T> {
  const file = lockFile(lockDir, options.key);
  const token = await acquire(file, options);
  const acquiredAt = Date.now();
  try {
    return await fn();
  } finally {
    // held for less than half of staleMs, nobody can have broken it: skip reading it back
    if (Date.now() - acquiredAt < options.staleMs / 2) await unlink(file).catch(() => {});
    else await release(file, token);
  }
}

/** The lock file of `key`: a hash, so nested keys share one flat folder. */
export function lockFile(lockDir: string, key: string): string {
  return path.join(lockDir, `${createHash('sha256').update(key).digest('hex')}.lock`);
}

/** Breaks stale locks (and stale break guards) left in `lockDir` by crashed processes. */
export async function sweepLocks(lockDir: string, staleMs: number): Promise<void> {
  const names = await readdir(lockDir);
  // stale guards first: a guard left by a crashed breaker would keep its lock from being broken
  for (const name of names.filter((n) => n.endsWith('.break')))
    await removeIfStale(path.join(lockDir, name), staleMs);
  for (const name of names.filter((n) => n.endsWith('.lock')))
    await breakIfStale(path.join(lockDir, name), staleMs);
}

async function acquire(file: string, options: KeyLockOptions): Promise<string> {
  const { operation, key, signal } = options;
  const token = randomUUID();
  // a lock held longer than staleMs is broken, so waiting longer than that means endless contention
  const deadline = Date.now() + options.staleMs + 10_000;
  for (let step = 1; ; step = Math.min(step * 2, MAX_WAIT_STEP_MS)) {
    throwIfAborted(signal, operation, key);
    if (await createLockFile(file, token)) return token;
    if (await breakIfStale(file, options.staleMs)) continue;
    if (Date.now() > deadline) {
      throw new StoreError('Unavailable', 'timed out waiting for the lock of this key', { operation, key });
    }
    await sleep(step, undefined, { signal });
  }
}

/** Creates `file` holding a fresh owner record; false when it already exists. */
async function createLockFile(file: string, token: string): Promise<boolean> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'wx');
  } catch (err) {
    if (errnoOf(err) === 'EEXIST') return false;
    throw err;
  }
  try {
    const owner: Owner = { pid: process.pid, host: hostname(), time: Date.now(), token };
    await handle.writeFile(JSON.stringify(owner));
  } catch (err) {
    await handle.close();
    await unlink(file).catch(() => {});
    throw err;
  }
  await handle.close();
  return true;
}

async function release(file: string, token: string): Promise<void> {
  const seen = await readLock(file).catch(() => undefined);
  // never remove a lock that was broken and re-taken by someone else
  if (seen?.owner?.token === token) await unlink(file).catch(() => {});
}

/** Removes `file` when it is a stale lock; true when the caller should retry at once. */
async function breakIfStale(file: string, staleMs: number): Promise<boolean> {
  const seen = await readLock(file);
  if (!seen) return true;
  if (!isStale(seen, staleMs)) return false;
  const guard = `${file}.break`;
  const guardToken = randomUUID();
  if (!(await createLockFile(guard, guardToken))) {
    await removeIfStale(guard, staleMs); // left by a breaker that crashed
    return false;
  }
  try {
    const again = await readLock(file);
    if (again && again.ino === seen.ino && isStale(again, staleMs)) await unlink(file);
    return true;
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return true;
    throw err;
  } finally {
    await release(guard, guardToken);
  }
}

async function removeIfStale(file: string, staleMs: number): Promise<void> {
  const seen = await readLock(file);
  if (seen && isStale(seen, staleMs)) await unlink(file).catch(() => {});
}

async function readLock(file: string): Promise<SeenLock | undefined> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch (err) {
    if (errnoOf(err) === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const stat = await handle.stat();
    const seen: SeenLock = { ino: stat.ino, mtimeMs: stat.mtimeMs };
    const owner = parseOwner(await handle.readFile('utf8'));
    if (owner) seen.owner = owner;
    return seen;
  } finally {
    await handle.close();
  }
}

function parseOwner(text: string): Owner | undefined {
  try {
    const value = JSON.parse(text) as Partial<Owner>;
    const ok = Number.isInteger(value.pid) && typeof value.host === 'string' && Number.isFinite(value.time);
    return ok && typeof value.token === 'string' ? (value as Owner) : undefined;
  } catch {
    return undefined; // still being written, or written by a crashed owner: judged by mtime
  }
}

function isStale(seen: SeenLock, staleMs: number): boolean {
  const age = Date.now() - (seen.owner?.time ?? seen.mtimeMs);
  if (age > staleMs) return true;
  const owner = seen.owner;
  return owner !== undefined && age > DEAD_PID_GRACE_MS && owner.host === hostname() && !pidAlive(owner.pid);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return errnoOf(err) !== 'ESRCH'; // EPERM: alive, owned by another user
  }
}
