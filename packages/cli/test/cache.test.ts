// The host-wide chunk cache through the `ckpt` command and on real stores: `ckpt` processes killed
// with SIGKILL while they write the cache leave it usable and the next pull exact; a host holding
// model A pulls model B (same base, other weights) reading from the store only what B does not
// share, on a filesystem store and on S3 (MinIO), bytes counted at the store.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Checkpoints, type ObjectStore, withEvents } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { S3Store } from '@ckpt/s3';
import { makeCheckpoint, readTree, seededBytes, useMinio } from '@ckpt/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, lines, start, tempDir } from './helpers.js';

const minio = useMinio();
let work: string;

beforeAll(async () => {
  work = await tempDir();
});

/** The cache's entries by key, each with the SHA-256 of its bytes; temp files left by writers apart. */
async function cacheEntries(cache: string): Promise<{ keys: Map<string, string>; temp: number }> {
  const keys = new Map<string, string>();
  const root = path.join(cache, 'sha256');
  for (const fan of await readdir(root).catch(() => [] as string[]))
    for (const name of await readdir(path.join(root, fan)).catch(() => [] as string[])) {
      const bytes = await readFile(path.join(root, fan, name)).catch(() => undefined);
      if (bytes) keys.set(name, createHash('sha256').update(bytes).digest('hex'));
    }
  const temp = (await readdir(path.join(cache, 'tmp')).catch(() => [])).length;
  return { keys, temp };
}

async function entryCount(cache: string): Promise<number> {
  let count = 0;
  const root = path.join(cache, 'sha256');
  for (const fan of await readdir(root).catch(() => [] as string[]))
    count += (await readdir(path.join(root, fan)).catch(() => [])).length;
  return count;
}

describe('ckpt processes killed while they write the cache', () => {
  it('leave every entry whole or absent, and the next pull exact', async () => {
    const src = await makeCheckpoint(path.join(work, 'kill-src'), { pagesScale: 12 });
    const store = path.join(work, 'kill-store');
    const cache = path.join(work, 'kill-cache');
    const env = (host: string) => ({ CKPT_STATE_DIR: path.join(work, 'kill-state', host) });
    expect(
      await ckpt(['push', src, '-m', 'm', '--store', store], { cwd: work, env: env('pusher') }),
    ).toMatchObject({
      code: 0,
    });
    // three hosts' pulls fill the cache at once; each is killed once the cache holds a share of the
    // chunks (about 800), the first early, the last late
    const pulls = [0, 1, 2].map((i) =>
      start(['pull', 'm', path.join(work, `kill-dst-${i}`), '--store', store, '--cache', cache], {
        cwd: work,
        env: env(`host-${i}`),
      }),
    );
    const thresholds = [50, 200, 400];
    const ended = pulls.map(() => false);
    for (const [i, pull] of pulls.entries()) void pull.result.then(() => (ended[i] = true));
    for (const [i, pull] of pulls.entries()) {
      while (!ended[i] && (await entryCount(cache)) < thresholds[i]!)
        await new Promise((r) => setTimeout(r, 5));
      pull.kill('SIGKILL');
    }
    const runs = await Promise.all(pulls.map((pull) => pull.result));
    const killed = runs.filter((run) => run.signal === 'SIGKILL').length;
    expect(killed).toBeGreaterThan(0);
    const { keys } = await cacheEntries(cache);
    expect(keys.size).toBeGreaterThan(0);
    for (const [key, sha] of keys) expect(sha).toBe(key);

    // a fourth host (no record of the others' trees) pulls with the cache
    const dst = path.join(work, 'kill-after');
    const after = await ckpt(['pull', 'm', dst, '--store', store, '--cache', cache, '--json'], {
      cwd: work,
      env: env('after'),
    });
    expect(after).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(after.stdout).chunksCached).toBeGreaterThan(0);
    expect(await readTree(dst, { times: true })).toEqual(await readTree(src, { times: true }));
    const verify = await ckpt(['verify', 'm', '--store', store], { cwd: work, env: env('after') });
    expect(verify).toMatchObject({ code: 0 });
    const filled = await cacheEntries(cache);
    for (const [key, sha] of filled.keys) expect(sha).toBe(key);

    // what the killed writers left in the cache's temp folder goes with the entries
    const pruned = await ckpt(['cache', 'prune', '--all', '--cache', cache, '--json'], { cwd: work });
    expect(JSON.parse(pruned.stdout)).toMatchObject({ entries: 0, bytes: 0, removed: filled.keys.size });
    expect(await cacheEntries(cache)).toEqual({ keys: new Map(), temp: 0 });
  });
});

describe.each(['fs', 's3'])('cross-model reuse on pull (%s)', (which) => {
  const weights = 3 << 20;
  let store: ObjectStore;
  let models: Record<string, string>;

  beforeAll(async () => {
    store =
      which === 'fs'
        ? new FsStore({ root: path.join(work, 'xm-fs-store') })
        : new S3Store({
            ...minio.server.storeOptions(),
            bucket: minio.bucket,
            prefix: 'cross-model',
            forcePathStyle: true,
          });
    // the same container image (the base tree), weights of their own
    models = {};
    const pusher = new Checkpoints(store, { stateDir: path.join(work, `xm-${which}-pusher`) });
    for (const [name, seed] of [
      ['org/a', 1],
      ['org/b', 2],
    ] as const) {
      const dir = await makeCheckpoint(path.join(work, `xm-${which}-${seed}`), { pagesScale: 4 });
      await writeFile(path.join(dir, 'weights.img'), seededBytes(weights, 500 + seed));
      await pusher.push(name, dir);
      models[name] = dir;
    }
    await pusher.close();
    return () => store.close?.();
  });

  /** A host with its own state directory and cache; the bytes of packs its pulls read. */
  const host = (name: string, cache: boolean) => {
    const read = { packBytes: 0 };
    const checkpoints = new Checkpoints(
      withEvents(store, (e) => {
        if (e.op === 'get' && e.key.startsWith('ckpt/packs/')) read.packBytes += e.bytes;
      }),
      {
        stateDir: path.join(work, `xm-${which}-${name}-state`),
        ...(cache ? { cache: { dir: path.join(work, `xm-${which}-${name}-cache`) } } : {}),
      },
    );
    return { checkpoints, read };
  };

  it('a host holding A reads only what B does not share (one pack per file boundary at most); without the cache, all of B', async () => {
    const figures: Record<string, number> = {};
    for (const cached of [true, false]) {
      const { checkpoints, read } = host(cached ? 'cached' : 'plain', cached);
      await checkpoints.pull('org/a', path.join(work, `xm-${which}-${cached}-a`));
      const before = read.packBytes;
      const dst = path.join(work, `xm-${which}-${cached}-b`);
      await checkpoints.pull('org/b', dst);
      await checkpoints.close();
      figures[String(cached)] = read.packBytes - before;
      expect(await readTree(dst, { times: true })).toEqual(await readTree(models['org/b']!, { times: true }));
    }
    expect(figures.true).toBeGreaterThanOrEqual(weights);
    expect(figures.true).toBeLessThanOrEqual(weights + (8 << 20));
    expect(figures.false).toBeGreaterThan(weights + (8 << 20));
  });
});

describe('the cache on the command line', () => {
  it('CKPT_CACHE and the config file name it; stats and prune answer in JSON; bad input is one line', async () => {
    const dir = path.join(work, 'cli');
    await mkdir(dir, { recursive: true });
    const src = await makeCheckpoint(path.join(dir, 'src'));
    const store = path.join(dir, 'store');
    const env = { CKPT_STATE_DIR: path.join(dir, 'state'), CKPT_STORE: store };
    await writeFile(
      path.join(dir, 'ckpt.config.json'),
      JSON.stringify({ store, cache: { dir: 'from-file', size: '1GiB' } }),
    );
    expect(await ckpt(['push', src, '-m', 'm'], { cwd: dir, env })).toMatchObject({ code: 0 });
    const fromFile = JSON.parse((await ckpt(['cache', 'stats', '--json'], { cwd: dir, env })).stdout);
    expect(fromFile).toMatchObject({ dir: path.join(dir, 'from-file'), maxBytes: 2 ** 30 });
    expect(fromFile.entries).toBeGreaterThan(0);

    const byEnv = { ...env, CKPT_CACHE: 'from-env', CKPT_CACHE_SIZE: '2GiB' };
    const pulled = await ckpt(['pull', 'm', 'dst'], { cwd: dir, env: byEnv });
    expect(pulled).toMatchObject({ code: 0, stderr: '' });
    expect(pulled.stdout).toMatch(/from the cache|from other directories/);
    const stats = JSON.parse((await ckpt(['cache', 'stats', '--json'], { cwd: dir, env: byEnv })).stdout);
    expect(stats).toMatchObject({ dir: path.join(dir, 'from-env'), maxBytes: 2 * 2 ** 30 });

    const human = await ckpt(['cache', 'prune', '--cache-size', '0'], { cwd: dir, env: byEnv });
    expect(lines(human.stdout)).toEqual([
      expect.stringMatching(/from-env: removed \d+ chunks .*; 0 chunks, 0 B left$/),
    ]);

    const bad = await ckpt(['pull', 'm', 'dst', '--cache-size', 'lots'], { cwd: dir, env });
    expect(bad.code).toBe(2);
    expect(lines(bad.stderr)).toEqual([expect.stringMatching(/--cache-size.*expected a size/)]);
    await writeFile(
      path.join(dir, 'ckpt.config.json'),
      JSON.stringify({ store, cache: { dir: 'x', size: 'lots' } }),
    );
    const badFile = await ckpt(['cache', 'stats'], { cwd: dir, env });
    expect(badFile.code).toBe(2);
    expect(lines(badFile.stderr)).toEqual([expect.stringMatching(/config cache\.size: expected a size/)]);
    await writeFile(path.join(dir, 'ckpt.config.json'), JSON.stringify({ store }));
    const none = await ckpt(['cache', 'stats'], { cwd: dir, env });
    expect(none.code).toBe(2);
    expect(lines(none.stderr)).toEqual([
      "ckpt: cache: no cache is set: pass --cache DIR, set CKPT_CACHE or the config file's cache.dir",
    ]);
  });
});
