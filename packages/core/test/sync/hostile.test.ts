// Hostile store contents: manifests and packs rewritten by someone with write access to the
// store (checksums recomputed where that makes them pass). Every pull fails with Integrity,
// writes nothing, and the process stays small.
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCheckpoint } from '@ckpt/test-utils';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readAll } from '../../dist/exports/backend.js';
import { MemoryStore } from '../../dist/exports/testing.js';
import { Checkpoints } from '../../dist/index.js';
import { SMALL_CHUNKING } from './small-chunking.js';

type Json = Record<string, unknown> & { entries: Record<string, unknown>[]; chunks: string; packs: string[] };

let work: string;
let store: MemoryStore;
let ckpt: Checkpoints;
let manifestKey: string;
let original: Json;
const small = { chunking: SMALL_CHUNKING, packSize: 1 << 20 };

beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-hostile-'));
  store = new MemoryStore();
  ckpt = new Checkpoints(store, small);
  await makeCheckpoint(path.join(work, 'src'));
  await ckpt.push('m', path.join(work, 'src'));
  for await (const meta of store.list('ckpt/models/')) manifestKey = meta.key;
  original = JSON.parse((await readAll((await store.get(manifestKey)).body)).toString());
});
afterEach(async () => {
  await ckpt.close();
  await rm(work, { recursive: true, force: true });
});

/** Writes `manifest` sealed with a checksum that matches it, as anyone with write access can. */
async function putSealed(manifest: Json) {
  const { checksum: _old, ...rest } = manifest;
  const checksum = createHash('sha256').update(JSON.stringify(rest)).digest('hex');
  await store.put(manifestKey, Buffer.from(JSON.stringify({ ...rest, checksum })));
}

/** The chunk rows (44 bytes each: hash, pack, offset, length) with row 0 changed by `edit`. */
function editRow(chunks: string, edit: (row: Buffer) => void): string {
  const rows = Buffer.from(chunks, 'base64');
  edit(rows.subarray(0, 44));
  return rows.toString('base64');
}

const clone = (): Json => structuredClone(original);
const file = (m: Json) => m.entries.find((e) => e.type === 'file' && (e.extents as number[]).length > 0)!;

/** Rewrites of a valid manifest, each sealed again with a matching checksum. */
const sealed: [string, (m: Json) => void][] = [
  [
    'a ../ path',
    (m) => {
      m.entries[0]!.path = '../escaped';
    },
  ],
  [
    'an absolute path',
    (m) => {
      m.entries[0]!.path = '/etc/escaped';
    },
  ],
  [
    'a path through a symlink',
    (m) => {
      m.entries.push({ path: 'link', type: 'symlink', target: '/tmp' });
      m.entries.push({ path: 'link/x', type: 'file', mode: 0o644, size: 0, mtimeMs: 1, extents: [] });
    },
  ],
  [
    'a path twice',
    (m) => {
      m.entries.push({ ...m.entries.at(-1)! });
    },
  ],
  [
    'a file below a file',
    (m) => {
      m.entries.push({ ...file(m), path: `${file(m).path}/below` });
    },
  ],
  [
    'a chunk past its pack',
    (m) => {
      m.chunks = editRow(m.chunks, (r) => r.writeUInt32LE(0x7fffffff, 36));
    },
  ],
  [
    'a chunk 4 GiB long',
    (m) => {
      m.chunks = editRow(m.chunks, (r) => r.writeUInt32LE(0xffffffff, 40));
    },
  ],
  [
    'a chunk in a pack not listed',
    (m) => {
      m.chunks = editRow(m.chunks, (r) => r.writeUInt32LE(999, 32));
    },
  ],
  [
    'an extent past the chunk table',
    (m) => {
      (file(m).extents as number[])[0] = 1e9;
    },
  ],
  [
    'a size the extents do not add up to',
    (m) => {
      file(m).size = 4294967295;
    },
  ],
  [
    'an unknown format version',
    (m) => {
      m.format = 'ckpt-manifest/9';
    },
  ],
  [
    'another model',
    (m) => {
      m.model = 'other';
    },
  ],
  [
    'an unknown field',
    (m) => {
      m.extra = 1;
    },
  ],
];

/** Texts that are no valid manifest at all. */
const raw: [string, (m: Json) => string][] = [
  ['a wrong checksum', (m) => JSON.stringify({ ...m, checksum: '0'.repeat(64) })],
  ['invalid JSON', () => '{"format":'],
  ['not an object', () => '[]'],
];

describe('a hostile manifest', () => {
  const cases: [string, () => Promise<void>][] = [
    ...sealed.map(([name, edit]): [string, () => Promise<void>] => [
      name,
      () => {
        const m = clone();
        edit(m);
        return putSealed(m);
      },
    ]),
    ...raw.map(([name, text]): [string, () => Promise<void>] => [
      name,
      () => store.put(manifestKey, Buffer.from(text(clone()))).then(() => undefined),
    ]),
  ];
  for (const [name, write] of cases) {
    it(`with ${name}: pull fails with Integrity and writes nothing`, async () => {
      await write();
      const err = await ckpt.pull('m', path.join(work, 'dst')).catch((e) => e);
      expect(err).toMatchObject({ code: 'Integrity' });
      expect((await readdir(work)).sort()).toEqual(['src']);
      expect(process.memoryUsage().rss).toBeLessThan(1024 * 1024 * 1024);
    });
  }
});

const packs: [string, (bytes: Buffer) => Buffer | undefined][] = [
  ['missing', () => undefined],
  ['truncated', (b) => b.subarray(0, b.length >> 1)],
  ['empty', () => Buffer.alloc(0)],
  [
    'a flipped byte',
    (b) => {
      b[b.length >> 1]! ^= 0xff;
      return b;
    },
  ],
  ['replaced by another pack', (b) => Buffer.alloc(b.length, 7)],
];

describe('a hostile pack', () => {
  for (const [name, mutate] of packs) {
    it(`${name}: pull and verify fail with Integrity naming a file, nothing is written`, async () => {
      for await (const meta of store.list('ckpt/packs/')) {
        const bytes = mutate(Buffer.from(await readAll((await store.get(meta.key)).body)));
        if (bytes) await store.put(meta.key, bytes);
        else await store.delete(meta.key);
      }
      const err = await ckpt.pull('m', path.join(work, 'dst')).catch((e) => e);
      expect(err).toMatchObject({ code: 'Integrity' });
      expect(err.message).toMatch(/needed by \S+/);
      expect((await readdir(work)).sort()).toEqual(['src']);
      expect((await ckpt.verify('m')).ok).toBe(false);
    });
  }
});
