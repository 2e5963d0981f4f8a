// Client-side encryption through the `ckpt` command, on a filesystem store and on S3 (MinIO):
// nothing of the pushed files is readable in the raw store, the key comes from the environment,
// a key file or the config file, a missing, wrong or extra key exits 7 with one line, the key is
// never printed, and rotate-key changes the key without touching the data.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { readAll } from '@ckpt/core/backend';
import { S3Store } from '@ckpt/s3';
import { makeCheckpoint, plaintextRuns, readTree, useMinio } from '@ckpt/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

const KEY = 'ckpt-test-key-never-print-me-0123456789';
const NEW_KEY = 'ckpt-rotated-key-never-print-me-9876543210';
const minio = useMinio();
let work: string;
let src: string;
let files: Buffer[];

beforeAll(async () => {
  work = await tempDir();
  src = await makeCheckpoint(path.join(work, 'src'), { pagesScale: 2 });
  files = await filesUnder(src);
  await writeFile(path.join(work, 'key'), `${KEY}\n`);
  await writeFile(path.join(work, 'new-key'), NEW_KEY);
});

async function filesUnder(dir: string): Promise<Buffer[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map((e) => readFile(path.join(e.parentPath, e.name))));
}

interface Backend {
  url: string;
  env: Record<string, string>;
  /** Every object of the store as stored, read past ckpt. */
  raw(): Promise<Buffer[]>;
}

const backends: Record<string, (name: string) => Backend> = {
  fs: (name) => {
    const root = path.join(work, name);
    return { url: root, env: {}, raw: () => filesUnder(root) };
  },
  s3: (name) => {
    const { endpoint, credentials } = minio.server;
    return {
      url: `s3://${minio.bucket}/${name}?endpoint=${endpoint}&forcePathStyle=true&conditionalWrites=true`,
      env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey },
      // the bucket's objects through the bare S3 store: the bytes as stored, no decryption
      raw: async () => {
        const store = new S3Store({ ...minio.server.storeOptions(), bucket: minio.bucket, prefix: name });
        const out: Buffer[] = [];
        for await (const meta of store.list(''))
          out.push(await readAll((await store.get(meta.key)).body, 1 << 30));
        await store.close();
        return out;
      },
    };
  },
};

describe.each(['fs', 's3'])('an encrypted store (%s)', (which) => {
  let backend: Backend;
  const run = (args: string[], env: Record<string, string> = {}) =>
    ckpt([...args, '--store', backend.url], { cwd: work, env: { ...backend.env, ...env } });
  const withKey = { CKPT_ENCRYPTION_KEY: KEY };

  it('holds no 64-byte run of the pushed files; push, ls, pull and verify work with the key from the environment', async () => {
    backend = backends[which]!(`enc-${which}`);
    const pushed = await run(['push', src, '-m', 'org/llama', '--verbose', '--debug'], withKey);
    expect(pushed.code, pushed.stderr).toBe(0);
    const raw = await backend.raw();
    expect(raw.length).toBeGreaterThan(3);
    expect(plaintextRuns(files, raw)).toBe(0);
    const listed = await run(['ls', 'org/llama', '--json'], withKey);
    expect(listed.code, listed.stderr).toBe(0);
    const pulled = await run(['pull', 'org/llama', path.join(work, `dst-${which}`)], withKey);
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(await readTree(path.join(work, `dst-${which}`))).toEqual(await readTree(src));
    const verified = await run(['verify', 'org/llama', '--json'], withKey);
    expect(verified.code, verified.stderr).toBe(0);
    for (const r of [pushed, listed, pulled, verified]) expect(r.stdout + r.stderr).not.toContain(KEY);
  });

  it('the key from a key file or the config file works too', async () => {
    expect((await run(['exists', 'org/llama', '--encryption-key-file', 'key'])).code).toBe(0);
    expect(
      (await run(['exists', 'org/llama'], { CKPT_ENCRYPTION_KEY_FILE: path.join(work, 'key') })).code,
    ).toBe(0);
    const config = path.join(work, `ckpt-${which}.json`);
    await writeFile(config, JSON.stringify({ store: backend.url, encryption: { keyFile: 'key' } }));
    const viaConfig = await ckpt(['exists', 'org/llama', '--config', config], {
      cwd: work,
      env: backend.env,
    });
    expect(viaConfig.code, viaConfig.stderr).toBe(0);
    await writeFile(config, JSON.stringify({ store: backend.url, encryption: {} }));
    const noKey = await ckpt(['exists', 'org/llama', '--config', config], { cwd: work, env: backend.env });
    expect(noKey.code).toBe(7);
    expect(lines(noKey.stderr)).toEqual([
      `ckpt: encryption key: encryption is on (${config}) but no key was given: set CKPT_ENCRYPTION_KEY or --encryption-key-file`,
    ]);
  });

  it('a missing, wrong, short or unreadable key exits 7 with one line, never printing a key', async () => {
    const cases: [Record<string, string>, string[], string][] = [
      [{}, [], 'ckpt: encryption key: the store is encrypted and no encryption key was given'],
      [
        { CKPT_ENCRYPTION_KEY: NEW_KEY },
        ['--verbose', '--debug'],
        'ckpt: encryption key: the encryption key does not open this store (wrong key)',
      ],
      [
        { CKPT_ENCRYPTION_KEY: 'short' },
        [],
        'ckpt: encryption key: the encryption key (encryption.key) is shorter than 16 bytes',
      ],
      [
        {},
        ['--encryption-key-file', 'no-such-key'],
        `ckpt: encryption key: cannot read the encryption key file ${path.join(work, 'no-such-key')} (ENOENT)`,
      ],
    ];
    for (const [env, flags, line] of cases) {
      for (const args of [['ls'], ['pull', 'org/llama', 'never'], ['push', src, '-m', 'org/llama']]) {
        const r = await run([...args, ...flags], env);
        expect(r.code, `${args} ${line}`).toBe(7);
        expect(r.stdout + r.stderr).not.toContain(NEW_KEY);
        if (!flags.includes('--debug')) expect(lines(r.stderr), `${args}`).toEqual([line]);
      }
    }
  });

  it('a key given for a plain store exits 7', async () => {
    const plain = backends[which]!(`plain-${which}`);
    const env = { ...plain.env, ...withKey };
    expect(
      (await ckpt(['push', src, '-m', 'm', '--store', plain.url], { cwd: work, env: plain.env })).code,
    ).toBe(0);
    const r = await ckpt(['ls', '--store', plain.url], { cwd: work, env });
    expect(r.code).toBe(7);
    expect(lines(r.stderr)).toEqual([
      'ckpt: encryption key: the store is not encrypted, but an encryption key was given',
    ]);
  });

  it('rotate-key: the new key opens the store, the old one exits 7, no data object changed', async () => {
    const before = await backend.raw();
    const rotated = await run(['rotate-key', '--new-key-file', 'new-key'], withKey);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout + rotated.stderr).not.toContain(NEW_KEY);
    const after = await backend.raw();
    // only the record changed (fs also lists nothing else new)
    expect(after.filter((b) => !before.some((x) => x.equals(b)))).toHaveLength(1);
    expect((await run(['exists', 'org/llama'], withKey)).code).toBe(7);
    expect((await run(['verify', 'org/llama'], { CKPT_ENCRYPTION_KEY: NEW_KEY })).code).toBe(0);
  });
});
