import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  bootId,
  defaultStateDir,
  readLocalState,
  statePath,
  writeLocalState,
} from '../../src/sync/local-state.js';
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
let stateDir: string;
beforeEach(async () => {
  parent = await mkdtemp(path.join(tmpdir(), 'ckpt-state-'));
  dir = path.join(parent, 'ckpt');
  stateDir = path.join(parent, 'state');
});
afterEach(() => rm(parent, { recursive: true, force: true }));

describe('the local record', () => {
  it('is a header line and then the manifest exactly as uploaded, and reads back', async () => {
    const { checksum: _c, ...unsealed } = manifest();
    const { manifest: m, bytes } = sealAndEncode(unsealed);
    await writeLocalState(stateDir, dir, { ...fields, manifest: m }, bytes);
    const file = await readFile(statePath(stateDir, dir));
    const newline = file.indexOf(0x0a);
    expect(JSON.parse(file.subarray(0, newline).toString())).toEqual({
      format: 'ckpt-state/3',
      dir,
      bootId: await bootId(),
      ...fields,
    });
    expect(file.subarray(newline + 1).equals(bytes)).toBe(true);
    const back = await readLocalState(stateDir, dir, 's');
    expect(back?.stamps).toEqual(stamps);
    expect(back?.manifest.checksum).toBe(m.checksum);
    expect(back?.manifest.chunks.hashOf(0)).toBe(sha(1));
  });

  it('lives in the state directory, named by the directory path, nowhere near the directory', async () => {
    await writeLocalState(stateDir, dir, { ...fields, manifest: manifest() });
    expect(statePath(stateDir, dir)).toMatch(new RegExp(`^${stateDir}/dirs/[0-9a-f]{40}\\.state$`));
    expect(statePath(stateDir, dir)).not.toBe(statePath(stateDir, `${dir}2`));
    expect((await readdir(parent)).sort()).toEqual(['state']);
  });

  it('serialises the manifest itself when not given its bytes', async () => {
    const m = manifest();
    await writeLocalState(stateDir, dir, { ...fields, manifest: m });
    expect((await readLocalState(stateDir, dir, 's'))?.manifest.entries).toEqual(m.entries);
  });

  it('is ignored when its manifest is damaged, it belongs to another store or another path', async () => {
    const m = manifest();
    await writeLocalState(stateDir, dir, { ...fields, manifest: m });
    expect(await readLocalState(stateDir, dir, 'other')).toBeUndefined();
    const file = (await readFile(statePath(stateDir, dir))).toString();
    await writeFile(statePath(stateDir, dir), file.replace(`"dir":"${dir}"`, '"dir":"/elsewhere"'));
    expect(await readLocalState(stateDir, dir, 's')).toBeUndefined();
    await writeFile(statePath(stateDir, dir), file.replace('"path":"f"', '"path":"g"'));
    expect(await readLocalState(stateDir, dir, 's')).toBeUndefined();
  });

  it('defaults to $CKPT_STATE_DIR, then $XDG_STATE_HOME/ckpt, then ~/.local/state/ckpt', () => {
    expect(defaultStateDir({ CKPT_STATE_DIR: '/s', XDG_STATE_HOME: '/x' })).toBe('/s');
    expect(defaultStateDir({ XDG_STATE_HOME: '/x' })).toBe('/x/ckpt');
    expect(defaultStateDir({ XDG_STATE_HOME: 'relative' })).toBe(path.join(homedir(), '.local/state/ckpt'));
    expect(defaultStateDir({})).toBe(path.join(homedir(), '.local/state/ckpt'));
  });
});
