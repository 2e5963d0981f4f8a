import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { currentFormat, type Manifest, manifestFromJson } from './manifest.js';
import type { FileStamp } from './scan.js';

/**
 * The local record of what a checkpoint directory holds, kept BESIDE it
 * (`<parent>/.<name>.ckpt-state.json`), never inside: restore must see exactly the pushed files.
 * It says "this directory was generation G of model M in store S, and its files had these
 * stamps". A file whose stamp still matches is known to hold the manifest's bytes without reading
 * it: that makes "unchanged since last push" and "already at generation G" cheap, and lets a pull
 * copy chunks from the old files instead of downloading them.
 */
export interface LocalState {
  format: 'ckpt-state/1';
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

const stateShape = z.object({
  format: z.literal('ckpt-state/1'),
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
  manifest: z.any(),
});

export function statePath(dir: string): string {
  const abs = path.resolve(dir);
  return path.join(path.dirname(abs), `.${path.basename(abs)}.ckpt-state.json`);
}

let bootIdCache: string | undefined;
export async function bootId(): Promise<string> {
  bootIdCache ??= (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => 'unknown')).trim();
  return bootIdCache;
}

/**
 * The record for `dir` when it exists, parses, and belongs to `store`; undefined otherwise (a
 * missing or damaged record only costs speed: the manifest it carries is validated like one read
 * from the store (schema, checksum, safe paths), and stamps are trusted only within the same boot
 * unless the data was durable).
 */
export async function readLocalState(dir: string, store: string): Promise<LocalState | undefined> {
  const text = await readFile(statePath(dir), 'utf8').catch(() => undefined);
  if (!text) return undefined;
  try {
    const parsed = stateShape.parse(JSON.parse(text)) as LocalState;
    if (parsed.store !== store) return undefined;
    if (!parsed.durable && parsed.bootId !== (await bootId())) return undefined;
    // the manifest it carries gets the same checks as one read from the store
    const expect = { model: parsed.model, generation: parsed.generation };
    parsed.manifest = manifestFromJson(parsed.manifest, statePath(dir), expect);
    return parsed;
  } catch {
    return undefined;
  }
}

/** Writes the record atomically (temp file + rename). */
export async function writeLocalState(
  dir: string,
  state: Omit<LocalState, 'format' | 'bootId'>,
): Promise<void> {
  const target = statePath(dir);
  const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  const full: LocalState = {
    format: 'ckpt-state/1',
    bootId: await bootId(),
    ...state,
    manifest: currentFormat(state.manifest),
  };
  await writeFile(tmp, JSON.stringify(full));
  await rename(tmp, target);
}

export async function removeLocalState(dir: string): Promise<void> {
  await rm(statePath(dir), { force: true });
}
