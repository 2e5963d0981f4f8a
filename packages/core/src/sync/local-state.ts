import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { currentFormat, decodeManifest, encodeManifest, type Manifest } from './manifest.js';
import type { FileStamp } from './stamp.js';

/**
 * The local record of what a checkpoint directory holds. It lives in ckpt's state directory,
 * never inside or beside the checkpoint directory: restore must see exactly the pushed files, and
 * a push of a parent directory must never pick up ckpt's own files. It says "this directory was
 * generation G of model M in store S, and its files had these stamps". A file whose stamp still
 * matches is known to hold the manifest's bytes without reading it: that makes "unchanged since
 * last push" and "already at generation G" cheap, lets a pull copy chunks from the old files
 * instead of downloading them, and tells a pull that the directory it replaces is ckpt's own.
 *
 * On disk (`<stateDir>/dirs/<sha256 of the absolute path>.state`): one line of JSON with every
 * field but the manifest, a newline, then the manifest exactly as stored (so a push writes the
 * bytes it uploaded, and reading it checks the checksum without serialising it again).
 */
export interface LocalState {
  format: 'ckpt-state/3';
  /** The absolute path of the directory (the file name is only its hash). */
  dir: string;
  store: string;
  model: string;
  generation: string;
  /** Boot the files were written in; unsynced data from an earlier boot is not trusted. */
  bootId: string;
  /** True when the data was known to be on disk (fsynced, or written by someone else). */
  durable: boolean;
  stamps: Record<string, FileStamp>;
  manifest: Manifest;
}

const headerShape = z.object({
  format: z.literal('ckpt-state/3'),
  dir: z.string(),
  store: z.string(),
  model: z.string(),
  generation: z.string(),
  bootId: z.string(),
  durable: z.boolean(),
  stamps: z.record(
    z.string(),
    z.object({
      size: z.number(),
      mtimeNs: z.string(),
      ctimeNs: z.string(),
      ino: z.string(),
      dev: z.string(),
    }),
  ),
});

/**
 * Where ckpt keeps its local records unless told otherwise: `$CKPT_STATE_DIR`, else
 * `$XDG_STATE_HOME/ckpt`, else `~/.local/state/ckpt` (the XDG base directory default).
 */
export function defaultStateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CKPT_STATE_DIR) return path.resolve(env.CKPT_STATE_DIR);
  if (env.XDG_STATE_HOME && path.isAbsolute(env.XDG_STATE_HOME)) return path.join(env.XDG_STATE_HOME, 'ckpt');
  return path.join(homedir(), '.local', 'state', 'ckpt');
}

/**
 * Which file ckpt keeps of a directory: its record (`current`); `pending`, the record of the tree
 * a pull is swapping in; `journal`, the packs a push of the directory has stored so far
 * (push-journal.ts); or `pull-<pid>-<rand>.by-<owner pid>`, the record of the staging tree a pull
 * writes beside it (what it is for, so that the next pull can resume from it).
 */
export type RecordKind = 'current' | 'pending' | 'journal' | `pull-${string}`;

/**
 * The record file of directory `dir`. A pull writes the record of the tree it is about to swap in
 * as `pending` first, and makes it the record once the swap is done: whichever tree a crash
 * leaves in place, one of the two describes it.
 */
export function statePath(stateDir: string, dir: string, which: RecordKind = 'current'): string {
  const digest = createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 40);
  return path.join(stateDir, 'dirs', `${digest}.${which === 'current' ? 'state' : which}`);
}

let bootIdCache: string | undefined;
export async function bootId(): Promise<string> {
  bootIdCache ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  return bootIdCache;
}

/**
 * The record of `dir` as written, whatever store and boot it came from, when it exists and
 * parses; undefined otherwise. Its manifest gets the same checks as one read from the store
 * (schema, checksum, safe paths).
 */
export async function readLocalRecord(
  stateDir: string,
  dir: string,
  which: RecordKind = 'current',
): Promise<LocalState | undefined> {
  const record = await readRecordFile(statePath(stateDir, dir, which));
  return record?.dir === path.resolve(dir) ? record : undefined;
}

/** The record in `file` when it exists and parses (see {@link readLocalRecord}); undefined otherwise. */
export async function readRecordFile(file: string): Promise<LocalState | undefined> {
  const bytes = await readFile(file).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    const newline = bytes.indexOf(0x0a);
    if (newline < 0) return undefined;
    const header = headerShape.parse(JSON.parse(bytes.toString('utf8', 0, newline)));
    const expect = { model: header.model, generation: header.generation };
    const manifest = decodeManifest(bytes.subarray(newline + 1), file, expect);
    return { ...header, manifest };
  } catch {
    return undefined;
  }
}

/**
 * The record of `dir` when it belongs to `store` and its stamps can be trusted (written in this
 * boot, or durable); undefined otherwise. A missing or stale record only costs speed.
 */
export async function readLocalState(
  stateDir: string,
  dir: string,
  store: string,
): Promise<LocalState | undefined> {
  return trustState(await readLocalRecord(stateDir, dir), store);
}

/** `record` when it belongs to `store` and its stamps can be trusted; undefined otherwise. */
export async function trustState(
  record: LocalState | undefined,
  store: string,
): Promise<LocalState | undefined> {
  if (!record || record.store !== store) return undefined;
  if (!record.durable && record.bootId !== (await bootId())) return undefined;
  return record;
}

/**
 * Writes the record atomically (temp file + rename). `encoded`: the manifest's bytes when the
 * caller has them (a push: what it uploaded), else the manifest is serialised here.
 */
export async function writeLocalState(
  stateDir: string,
  dir: string,
  state: Omit<LocalState, 'format' | 'bootId' | 'dir'>,
  encoded?: Uint8Array,
  which: RecordKind = 'current',
): Promise<void> {
  const target = statePath(stateDir, dir, which);
  await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
  const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  const { manifest, ...fields } = state;
  const header = { format: 'ckpt-state/3', dir: path.resolve(dir), bootId: await bootId(), ...fields };
  try {
    await writeFile(
      tmp,
      [`${JSON.stringify(header)}\n`, encoded ?? encodeManifest(currentFormat(manifest))],
      {
        mode: 0o600,
      },
    );
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
}

/** Makes the pending record the record of `dir` (after the swap it describes). */
export async function commitPendingState(stateDir: string, dir: string): Promise<void> {
  await rename(statePath(stateDir, dir, 'pending'), statePath(stateDir, dir));
}

export async function removeLocalState(stateDir: string, dir: string): Promise<void> {
  await rm(statePath(stateDir, dir), { force: true });
  await rm(statePath(stateDir, dir, 'pending'), { force: true });
}
