// Garbage collection running over and over while pushes commit new generations: every generation
// that gc keeps stays complete, verifiable and pullable.
import { readdirSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Checkpoints } from '@ckpt/core';
import { FsStore } from '@ckpt/fs';
import { readTree, seededBytes } from '@ckpt/test-utils';
import { afterAll, beforeAll, expect, it } from 'vitest';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-gc-race-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

it('gc racing pushes never removes data a kept or in-flight generation needs', async () => {
  const root = path.join(work, 'store');
  await mkdir(root); // gc of a store that does not exist fails: the race starts on an empty one
  // short enough that gc deletes data during the race, long enough for most pushes to finish in
  // half of it (a push that cannot gives up with Conflict: a clean failure, also acceptable)
  const grace = 600;
  const pusher = new Checkpoints(new FsStore({ root }), { grace, packSize: 1 << 20 });
  const collector = new Checkpoints(new FsStore({ root }), { grace });
  const src = path.join(work, 'src');
  await mkdir(path.join(src, 'rootfs'), { recursive: true });
  let pushing = true;
  let collections = 0;
  let deletedDuringRace = 0;
  const gcLoop = (async () => {
    while (pushing) {
      deletedDuringRace += (await collector.gc({ keep: 2, grace })).packsDeleted;
      collections++;
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  const committed: { generation: string; tree: Awaited<ReturnType<typeof readTree>> }[] = [];
  let conflicts = 0;
  for (let round = 0; round < 16; round++) {
    // each round keeps part of the previous content (reused chunks) and changes the rest
    await writeFile(
      path.join(src, 'pages-1.img'),
      Buffer.concat([seededBytes(2 << 20, 1), seededBytes(1 << 20, 100 + round)]),
    );
    await writeFile(path.join(src, 'rootfs/state'), seededBytes(50_000, round));
    try {
      const result = await pusher.push('model', src);
      committed.push({ generation: result.generation, tree: await readTree(src) });
    } catch (err) {
      if ((err as { code?: string }).code !== 'Conflict') throw err;
      conflicts++;
    }
    await new Promise((r) => setTimeout(r, 80));
  }
  pushing = false;
  await gcLoop;
  expect(collections).toBeGreaterThan(2);
  expect(deletedDuringRace).toBeGreaterThan(0);
  expect(committed.length).toBeGreaterThan(conflicts);
  // past the grace period, a final gc frees what nothing needs; the kept generations stay whole
  await new Promise((r) => setTimeout(r, 50));
  await collector.gc({ keep: 2, grace: 0 });
  const kept = (await collector.generations('model')).map((g) => g.generation);
  expect(kept).toEqual(committed.slice(-2).map((c) => c.generation));
  for (const { generation, tree } of committed.slice(-2)) {
    expect((await collector.verify('model', { generation })).ok).toBe(true);
    const dst = path.join(work, `dst-${generation}`);
    await collector.pull('model', dst, { generation });
    expect(await readTree(dst)).toEqual(tree);
  }
  await pusher.close();
  await collector.close();
});

it('gc --keep 1 --grace 0 in a loop against eight concurrent pushers leaves every listed generation whole', async () => {
  const root = path.join(work, 'store0');
  await mkdir(root); // gc of a store that does not exist fails: the race starts on an empty one
  const pushers = Array.from(
    { length: 8 },
    () => new Checkpoints(new FsStore({ root }), { packSize: 256 << 10 }),
  );
  const collector = new Checkpoints(new FsStore({ root }));
  let pushing = true;
  let deleted = 0;
  const gcLoop = (async () => {
    while (pushing) deleted += (await collector.gc({ keep: 1, grace: 0 })).packsDeleted;
  })();
  let commits = 0;
  for (let round = 0; round < 3; round++) {
    await Promise.all(
      pushers.map(async (pusher, i) => {
        const src = path.join(work, `src0-${i}`);
        await mkdir(src, { recursive: true });
        // shared bytes (reused across pushers and rounds) and bytes of this pusher and round
        await writeFile(
          path.join(src, 'pages-1.img'),
          Buffer.concat([seededBytes(1 << 20, 7), seededBytes(1 << 20, round * 8 + i)]),
        );
        await pusher.push('model', src);
        commits++;
      }),
    );
  }
  pushing = false;
  await gcLoop;
  // with no push left in flight, the expired generations' data goes
  deleted += (await collector.gc({ keep: 1, grace: 0 })).packsDeleted;
  expect(commits).toBe(24);
  expect(deleted).toBeGreaterThan(0);
  for (const { generation } of await collector.generations('model')) {
    expect((await collector.verify('model', { generation })).ok).toBe(true);
  }
  await Promise.all([...pushers, collector].map((c) => c.close()));
});

it('gc removes the temp files of puts whose writer died, once they are past the grace (at least a minute)', async () => {
  const root = path.join(work, 'store-abandoned');
  const ckpt = new Checkpoints(new FsStore({ root }));
  await mkdir(path.join(work, 'src-abandoned'), { recursive: true });
  await writeFile(path.join(work, 'src-abandoned', 'f'), seededBytes(1000, 1));
  await ckpt.push('m', path.join(work, 'src-abandoned'));
  const tmp = path.join(root, '.ckpt-fs', 'tmp');
  // as a killed put leaves them: one written to two minutes ago, one just now
  await writeFile(path.join(tmp, 'dead.tmp'), seededBytes(5000, 2));
  const past = new Date(Date.now() - 120_000);
  await utimes(path.join(tmp, 'dead.tmp'), past, past);
  await writeFile(path.join(tmp, 'live.tmp'), seededBytes(7000, 3));
  const gc = await ckpt.gc({ grace: 0 });
  expect(gc.abandonedRemoved).toBe(1);
  expect(gc.bytesFreed).toBeGreaterThanOrEqual(5000);
  expect(readdirSync(tmp)).toEqual(['live.tmp']);
  expect((await ckpt.verify('m')).ok).toBe(true);
  await ckpt.close();
});
