import { randomBytes } from 'node:crypto';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  currentFormat,
  decodeManifest,
  encodeManifest,
  type Manifest,
  manifestFromJson,
} from './manifest.js';
import type { FileStamp } from './stamp.js';

/**
 * The local record of what a checkpoint directory holds, kept BESIDE it
 * (`<parent>/.<name>.ckpt-state.json`), never inside: restore must see exactly the pushed files.
 * It says "this directory was generation G of model M in store S, and its files had these
 * stamps". A file whose stamp still matches is known to hold the manifest's bytes without reading
 * it: that makes "unchanged since last push" and "already at generation G" cheap, and lets a pull
 * copy chunks from the old files instead of downloading them.
 *
 * On disk (format 2): one line of JSON with every field but the manifest, a newline, then the
 * manifest exactly as stored (so a push writes the bytes it uploaded, and reading it checks the
 * checksum without serialising the manifest again). Format 1, one JSON object, is still read.
 */
export interface LocalState {
  format: 'ckpt-state/1' | 'ckpt-state/2';
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
  format: z.literal('ckpt-state/2'),
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
const stateShape = headerShape.extend({ format: z.literal('ckpt-state/1'), manifest: z.any() });

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
  const bytes = await readFile(statePath(dir)).catch(() => undefined);
  if (!bytes) return undefined;
  try {
    const newline = bytes.indexOf(0x0a);
    const header =
      newline < 0
        ? stateShape.parse(JSON.parse(bytes.toString('utf8')))
        : headerShape.parse(JSON.parse(bytes.toString('utf8', 0, newline)));
    if (header.store !== store) return undefined;
    if (!header.durable && header.bootId !== (await bootId())) return undefined;
    // the manifest it carries gets the same checks as one read from the store
    const expect = { model: header.model, generation: header.generation };
    const manifest =
      'manifest' in header
        ? manifestFromJson(header.manifest, statePath(dir), expect)
        : decodeManifest(bytes.subarray(newline + 1), statePath(dir), expect);
    return { ...header, manifest };
  } catch {
    return undefined;
  }
}

/**
 * Writes the record atomically (temp file + rename). `encoded`: the manifest's bytes when the
 * caller has them (a push: what it uploaded), else the manifest is serialised here.
 */
export async function writeLocalState(
  dir: string,
  state: Omit<LocalState, 'format' | 'bootId'>,
  encoded?: Uint8Array,
): Promise<void> {
  const target = statePath(dir);
  const tmp = `${target}.${randomBytes(4).toString('hex')}.tmp`;
  const { manifest, ...fields } = state;
  const header = { format: 'ckpt-state/2', bootId: await bootId(), ...fields };
  await writeFile(tmp, [`${JSON.stringify(header)}\n`, encoded ?? encodeManifest(currentFormat(manifest))]);
  await rename(tmp, target);
}

export async function removeLocalState(dir: string): Promise<void> {
  await rm(statePath(dir), { force: true });
}
