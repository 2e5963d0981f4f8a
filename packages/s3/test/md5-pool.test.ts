import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Worker } from 'node:worker_threads';
import { freePort } from '@ckpt/test-servers';
import { afterEach, describe, expect, it, vi } from 'vitest';
// The pool starts its workers from the build (`dist/md5-worker.js`): run `pnpm build` first.
import { Md5Pool } from '../src/md5-pool.js';
import { S3Store } from '../src/s3-store.js';
import { collectGarbage, MiB, rejection } from './helpers.js';

/** Every worker the pool under test started, to watch them exit or to kill one. */
const started = vi.hoisted((): Worker[] => []);
vi.mock('node:worker_threads', async (importOriginal) => {
  const original = await importOriginal<typeof import('node:worker_threads')>();
  class RecordedWorker extends original.Worker {
    constructor(...args: ConstructorParameters<typeof original.Worker>) {
      super(...args);
      started.push(this);
    }
  }
  return { ...original, Worker: RecordedWorker };
});

const pools: Md5Pool[] = [];
afterEach(async () => {
  await Promise.all(pools.splice(0).map((pool) => pool.close()));
});

function open(options: ConstructorParameters<typeof Md5Pool>[0] = {}): Md5Pool {
  const pool = new Md5Pool(options);
  pools.push(pool);
  return pool;
}

const md5 = (bytes: Uint8Array) => createHash('md5').update(bytes).digest('base64');
/** A worker script that throws on its first message. */
const crashing = new URL(
  `data:text/javascript,${encodeURIComponent(
    "import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => { throw new Error('boom'); });",
  )}`,
);

describe('Md5Pool', () => {
  const big = randomBytes(10 * MiB);
  const inputs: [string, Uint8Array][] = [
    ['empty', new Uint8Array(0)],
    ['small', big.subarray(0, 1000)],
    ['200 KiB', big.subarray(0, 200 * 1024)],
    ['9 MiB (five steps of 2 MiB)', big.subarray(0, 9 * MiB)],
    ['a view at an odd offset', big.subarray(4097, 4097 + 9 * MiB - 5)],
    ['a view of a larger ArrayBuffer', new Uint8Array(big.buffer, big.byteOffset + 3, 8 * MiB)],
  ];

  for (const inlineBelow of [undefined, 0]) {
    it(`matches createHash('md5') (${inlineBelow === 0 ? 'every body on a worker' : 'default threshold'})`, async () => {
      const pool = open({ inlineBelow });
      for (const [name, bytes] of inputs) {
        expect(await pool.digest(bytes), name).toBe(md5(bytes));
      }
    });
  }

  it('hashes the small bodies inline and the large ones on a worker, started on first use', async () => {
    const before = started.length;
    const pool = open();
    expect(await pool.digest(big.subarray(0, 1000))).toBe(md5(big.subarray(0, 1000)));
    expect(pool.threads).toBe(0);
    expect(started.length).toBe(before);
    await pool.digest(big);
    expect(pool.threads).toBe(1);
    expect(started.length).toBe(before + 1);
  });

  it('runs concurrent jobs on at most `threads` workers, each with its own result', async () => {
    const pool = open({ threads: 2 });
    const bodies = Array.from({ length: 6 }, (_, i) => big.subarray(i * 1000, i * 1000 + 9 * MiB));
    expect(await Promise.all(bodies.map((body) => pool.digest(body)))).toEqual(bodies.map(md5));
    expect(pool.threads).toBe(2);
  });

  it("leaves the caller's buffer intact, not detached, not shared, and unreferenced once settled", async () => {
    const pool = open({ inlineBelow: 0 });
    let body: Buffer | undefined = randomBytes(9 * MiB);
    const copy = Buffer.from(body);
    const expected = md5(copy);
    expect(await pool.digest(body)).toBe(expected);
    expect(body.buffer).toBeInstanceOf(ArrayBuffer);
    expect(body.buffer.byteLength).toBe(9 * MiB);
    expect(body.equals(copy)).toBe(true);
    // the engine reuses the buffer for the next object
    body.fill(7, 0, MiB);
    expect(await pool.digest(body)).toBe(md5(body));

    const ref = new WeakRef(body);
    body = undefined;
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
  });

  it('close() terminates the workers; later calls hash inline without starting new ones', async () => {
    const pool = open({ threads: 2, inlineBelow: 0 });
    const before = started.length;
    await Promise.all([pool.digest(big), pool.digest(big)]);
    const workers = started.slice(before);
    expect(workers).toHaveLength(2);
    expect(workers.every((worker) => worker.threadId > 0)).toBe(true);
    await pool.close();
    expect(workers.every((worker) => worker.threadId === -1)).toBe(true);
    expect(pool.threads).toBe(0);
    expect(await pool.digest(big)).toBe(md5(big));
    expect(started.length).toBe(before + 2);
  });

  it('close() finishes jobs still running inline', async () => {
    const pool = open({ threads: 1, inlineBelow: 0 });
    const jobs = [pool.digest(big), pool.digest(big.subarray(1))];
    await pool.close();
    expect(await Promise.all(jobs)).toEqual([md5(big), md5(big.subarray(1))]);
  });

  it('fails the job with Internal when its worker dies, and starts a new one for the next', async () => {
    const pool = open({ threads: 1, inlineBelow: 0 });
    const job = pool.digest(big, { operation: 'put', key: 'pack-1' });
    await started.at(-1)!.terminate();
    const err = await rejection(job);
    expect(err.code).toBe('Internal');
    expect(err.message).toBe('put pack-1: the MD5 worker stopped');
    expect(pool.threads).toBe(0);
    expect(await pool.digest(big)).toBe(md5(big));
    expect(pool.threads).toBe(1);
  });

  it('fails with Internal, never hangs, when the worker throws or its script is missing', async () => {
    for (const script of [crashing, new URL('./no-such-worker.js', import.meta.url)]) {
      const pool = open({ script, inlineBelow: 0 });
      for (let i = 0; i < 2; i++) {
        expect((await rejection(pool.digest(big.subarray(0, MiB)))).code).toBe('Internal');
      }
      expect(pool.threads).toBe(0);
    }
  });

  it("S3Store.close() terminates its MD5 worker (started by a 'when_required' put)", async () => {
    const before = started.length;
    const store = new S3Store({
      bucket: 'bucket',
      endpoint: `http://127.0.0.1:${await freePort()}`, // nothing listens: the put fails after hashing
      forcePathStyle: true,
      checksums: 'when_required',
      maxAttempts: 1,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    expect((await rejection(store.put('k', big.subarray(0, MiB)))).code).toBe('Unavailable');
    const workers = started.slice(before);
    expect(workers).toHaveLength(1);
    expect(workers[0]!.threadId).toBeGreaterThan(0);
    await store.close();
    expect(workers[0]!.threadId).toBe(-1);
  });

  it('never keeps the process alive: a script that does not close the pool exits', async () => {
    // a file, not `node --input-type=module -e`: workers inherit that flag and fail to start with it
    const dir = await mkdtemp(join(tmpdir(), 'ckpt-md5-'));
    const script = join(dir, 'no-close.mjs');
    await writeFile(
      script,
      `import { Md5Pool } from ${JSON.stringify(new URL('../dist/md5-pool.js', import.meta.url).href)};
      const pool = new Md5Pool({ inlineBelow: 0 });
      console.log(pool.threads, await pool.digest(new Uint8Array(${MiB})), pool.threads);`,
    );
    try {
      const { stdout } = await promisify(execFile)(process.execPath, [script], { timeout: 20_000 });
      expect(stdout.trim()).toBe(`0 ${md5(new Uint8Array(MiB))} 1`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
