import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bootId, readLocalState, statePath, writeLocalState } from '../../src/sync/local-state.js';
import { currentFormat, decodeManifest, type Manifest, sealAndEncode } from '../../src/sync/manifest.js';

const sha = (n: number) => createHash('sha256').update(String(n)).digest('hex');
const generation = '20261128T000000000Z-00000000';

/** A small valid format-2 manifest (built as format 1, re-sealed). */
function manifest(): Manifest {
  const m: Record<string, unknown> = {
    format: 'ckpt-manifest/1',
    model: 'm',
    generation,
    parent: null,
    createdAt: '2026-11-28T00:00:00.000Z',
    labels: {},
    chunking: { avgSize: 65536 },
    packs: ['0'.repeat(32)],
    chunks: [[0, 0, 5, sha(1)]],
    entries: [{ path: 'f', type: 'file', mode: 0o644, size: 5, mtimeMs: 1, extents: [0] }],
  };
  m.checksum = createHash('sha256').update(JSON.stringify(m)).digest('hex');
  return currentFormat(decodeManifest(Buffer.from(JSON.stringify(m)), 'key'));
}

const stamps = { f: { size: 5, mtimeNs: '1', ctimeNs: '2', ino: '3', dev: '4' } };
const fields = { store: 's', model: 'm', generation, durable: true, stamps };

let parent: string;
let dir: string;
beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'ckpt-state-'));
  dir = path.join(parent, 'ckpt');
});
afterEach(() => rm(parent, { recursive: true, force: true }));

describe('the local record', () => {
  it('is a header line and then the manifest exactly as uploaded, and reads back', async () => {
    const { checksum: _c, ...unsealed } = manifest();
    const { manifest: m, bytes } = sealAndEncode(unsealed);
    await writeLocalState(dir, { ...fields, manifest: m }, bytes);
    const file = await readFile(statePath(dir));
    const newline = file.indexOf(0x0a);
    expect(JSON.parse(file.subarray(0, newline).toString())).toEqual({
      format: 'ckpt-state/2',
      bootId: await bootId(),
      ...fields,
    });
    expect(file.subarray(newline + 1).equals(bytes)).toBe(true);
    const back = await readLocalState(dir, 's');
    expect(back?.stamps).toEqual(stamps);
    expect(back?.manifest.checksum).toBe(m.checksum);
    expect(back?.manifest.chunks.hashOf(0)).toBe(sha(1));
  });

  it('serialises the manifest itself when not given its bytes', async () => {
    const m = manifest();
    await writeLocalState(dir, { ...fields, manifest: m });
    expect((await readLocalState(dir, 's'))?.manifest.entries).toEqual(m.entries);
  });

  it('still reads a record in format 1 (one JSON object)', async () => {
    const m = manifest();
    const old = { format: 'ckpt-state/1', bootId: await bootId(), ...fields, manifest: m };
    await writeFile(statePath(dir), JSON.stringify(old));
    expect((await readLocalState(dir, 's'))?.manifest.checksum).toBe(m.checksum);
  });

  it('is ignored when its manifest is damaged or it belongs to another store', async () => {
    const m = manifest();
    await writeLocalState(dir, { ...fields, manifest: m });
    expect(await readLocalState(dir, 'other')).toBeUndefined();
    const file = (await readFile(statePath(dir))).toString();
    await writeFile(statePath(dir), file.replace('"path":"f"', '"path":"g"'));
    expect(await readLocalState(dir, 's')).toBeUndefined();
  });
});
