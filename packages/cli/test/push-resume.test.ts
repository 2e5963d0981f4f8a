// A push killed once about half its bytes landed, on a filesystem store and on S3 (MinIO): the
// rerun uploads at most the rest plus one pack, and its generation verifies and pulls back
// byte-exact. Aborted through the library's AbortSignal, and the real CLI killed with SIGKILL.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Checkpoints, type ObjectStore, openStore, withEvents } from '@ckpt/core';
import { BackendRegistry } from '@ckpt/core/backend';
import { backend as fsBackend } from '@ckpt/fs';
import { backend as s3Backend } from '@ckpt/s3';
import { readTree, seededBytes, useMinio } from '@ckpt/test-utils';
import { afterAll, describe, expect, it } from 'vitest';
import { ckpt, start, tempDir } from './helpers.js';

const MiB = 1 << 20;
const minio = useMinio({ credentialsInEnv: true });
const registry = new BackendRegistry();
registry.register(fsBackend);
registry.register(s3Backend);
const stores: ObjectStore[] = [];
afterAll(async () => {
  await Promise.all(stores.map((s) => s.close?.()));
});

const backends = {
  fs: async (name: string) => path.join(await tempDir(), name),
  s3: async (name: string) =>
    `s3://${minio.bucket}/${name}?endpoint=${minio.server.endpoint}&region=us-east-1&forcePathStyle=true`,
};

async function open(url: string): Promise<ObjectStore> {
  const store = await openStore(url, { registry });
  stores.push(store);
  return store;
}

/** The packs in the store: key → size. */
async function packs(store: ObjectStore): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for await (const meta of store.list('ckpt/packs/')) out.set(meta.key, meta.size);
  return out;
}
const sum = (sizes: Iterable<number>) => [...sizes].reduce((a, b) => a + b, 0);

/**
 * {@link packs} once two listings 300 ms apart agree (at most 10 s): an upload the client gave up
 * on after the server had its whole body may still complete a moment later.
 */
async function settledPacks(store: ObjectStore): Promise<Map<string, number>> {
  let last = await packs(store);
  for (let i = 0; i < 33; i++) {
    await sleep(300);
    const now = await packs(store);
    if (now.size === last.size && [...now].every(([key, size]) => last.get(key) === size)) return now;
    last = now;
  }
  return last;
}

/** A checkpoint directory: `mib` MiB of incompressible pages and a few small files. */
async function checkpointDir(mib: number, seed: number): Promise<string> {
  const dir = path.join(await tempDir(), 'ckpt');
  await mkdir(path.join(dir, 'rootfs'), { recursive: true });
  await writeFile(path.join(dir, 'pages-1.img'), seededBytes(mib * MiB, seed));
  for (let i = 0; i < 10; i++)
    await writeFile(path.join(dir, `rootfs/f${i}`), seededBytes(2000 + i, seed + i));
  return dir;
}

/** Checks the generation the rerun committed and returns the bytes it stores. */
async function checkCommitted(store: ObjectStore, model: string, src: string): Promise<number> {
  const checkpoints = new Checkpoints(store);
  try {
    expect((await checkpoints.verify(model)).ok).toBe(true);
    const dst = path.join(await tempDir(), 'pulled');
    await checkpoints.pull(model, dst);
    expect(await readTree(dst)).toEqual(await readTree(src));
    return (await checkpoints.generations(model)).at(-1)!.storedBytes;
  } finally {
    await checkpoints.close();
  }
}

describe.each(Object.entries(backends))('push resume on %s', (kind, storeUrl) => {
  it('a push aborted once half its bytes landed: the rerun uploads only the rest; a pack deleted or replaced meanwhile is uploaded again', async () => {
    const PACK = 2 * MiB;
    const DATA = 32;
    const store = await open(await storeUrl('library'));
    await store.ensureExists?.();
    const uploaded = { bytes: 0 };
    /** Bytes of packs read back: those whose upload the abort cut short, checked before they are reused. */
    const readBack = { bytes: 0 };
    /** Aborted once half the data has landed in packs (while set). */
    let interrupt: AbortController | undefined;
    const counted = withEvents(store, (e) => {
      if (!e.key.startsWith('ckpt/packs/') || e.error) return;
      if (e.op === 'get') readBack.bytes += e.bytes;
      if (e.op !== 'put') return;
      uploaded.bytes += e.bytes;
      if (uploaded.bytes >= (DATA * MiB) / 2) interrupt?.abort();
    });
    const checkpoints = new Checkpoints(counted, {
      packSize: PACK,
      stateDir: path.join(await tempDir(), 'state'),
    });
    try {
      for (const [model, seed, spoil] of [
        ['m', 1, false],
        ['n', 2, true],
      ] as const) {
        const src = await checkpointDir(DATA, seed);
        const before = await packs(store);
        uploaded.bytes = 0;
        interrupt = new AbortController();
        const aborted = await checkpoints.push(model, src, { signal: interrupt.signal }).catch((e) => e);
        interrupt = undefined;
        expect(aborted).toMatchObject({ code: 'Aborted' });
        const left = [...(await settledPacks(store))].filter(([key]) => !before.has(key));
        let landed = sum(left.map(([, size]) => size));
        if (spoil) {
          const [[deleted, deletedSize], [replaced, replacedSize]] = left as [
            [string, number],
            [string, number],
          ];
          await store.delete(deleted);
          // the same size, other bytes: another version of the object
          await store.put(replaced, Buffer.alloc(replacedSize, 1), { size: replacedSize });
          landed -= deletedSize + replacedSize;
        }
        uploaded.bytes = 0;
        readBack.bytes = 0;
        const rerun = await checkpoints.push(model, src);
        const stored = await checkCommitted(store, model, src);
        console.info(
          `${kind} library abort${spoil ? ' (one pack deleted, one replaced)' : ''}: stored ${stored}, landed ${landed}, rerun uploaded ${uploaded.bytes} (remainder ${stored - landed}, pack ${PACK}), read back ${readBack.bytes}, resumed ${rerun.bytesResumed}`,
        );
        expect(landed).toBeGreaterThan(0);
        expect(rerun.bytesResumed).toBe(landed);
        expect(uploaded.bytes).toBeLessThanOrEqual(stored - landed + PACK);
      }
    } finally {
      await checkpoints.close();
    }
  });

  it('the CLI killed with SIGKILL once half its bytes landed: the rerun uploads at most the rest plus one pack', async () => {
    const PACK = 8 * MiB; // the CLI's
    const DATA = 96;
    const url = await storeUrl('cli');
    const store = await open(url);
    const src = await checkpointDir(DATA, 3);
    const cwd = await tempDir();
    const env = kind === 's3' ? { ...credentials() } : {};
    const push = () => ['push', src, '--model', 'big', '--store', url, '--json'];
    const child = start(push(), { cwd, env });
    // the store does not exist until the push creates it
    const landedNow = () =>
      packs(store).then(
        (p) => sum(p.values()),
        () => 0,
      );
    while (child.exitCode === null && (await landedNow()) < (DATA * MiB) / 2) await sleep(5);
    child.kill('SIGKILL');
    expect((await child.result).signal).toBe('SIGKILL');
    const before = await packs(store);
    const landed = sum(before.values());

    const rerun = await ckpt(push(), { cwd, env });
    expect(rerun.code).toBe(0);
    const result = JSON.parse(rerun.stdout);
    const uploaded = sum(
      [...(await packs(store))].filter(([key]) => !before.has(key)).map(([, size]) => size),
    );
    const stored = await checkCommitted(store, 'big', src);
    console.info(
      `${kind} CLI SIGKILL: stored ${stored}, landed ${landed}, rerun uploaded ${uploaded} (remainder ${stored - landed}, pack ${PACK}), resumed ${result.bytesResumed}, transferred ${result.bytesTransferred}`,
    );
    expect(landed).toBeGreaterThan(0);
    expect(landed).toBeLessThan(stored);
    expect(uploaded).toBeLessThanOrEqual(stored - landed + PACK);
    expect(result.bytesResumed).toBeGreaterThanOrEqual(landed - PACK);
    expect((await ckpt(['verify', 'big', '--store', url], { cwd, env })).code).toBe(0);
  });
});

function credentials(): Record<string, string> {
  const { accessKeyId, secretAccessKey } = minio.server.credentials;
  return { AWS_ACCESS_KEY_ID: accessKeyId, AWS_SECRET_ACCESS_KEY: secretAccessKey };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
