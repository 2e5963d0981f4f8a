import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { ChunkTable } from './chunk-table.js';
import { MAX_CHUNK_BYTES } from './chunking/options.js';
import { statePath } from './local-state.js';
import type { SealedPack } from './pack-writer.js';

/** A pack a push uploaded, or began to upload, as its journal names it. */
export interface JournaledPack {
  id: string;
  size: number;
  /** The store's version token once the store confirmed the pack; undefined when the push died first. */
  version?: string;
  /** Its chunks: rows whose pack index is 0 (this pack). */
  chunks: ChunkTable;
}

const FORMAT = 'ckpt-push-journal/1';
const PACK_ID = /^[0-9a-f]{32}$/;
const headerShape = z.object({ format: z.literal(FORMAT), dir: z.string(), store: z.string() });
const packShape = z.object({
  id: z.string().regex(PACK_ID),
  size: z.number().int().positive(),
  chunks: z.string(),
});
const storedShape = z.object({ id: z.string().regex(PACK_ID), version: z.string() });

/**
 * The packs a push of a directory uploads, kept beside the directory's local record
 * (`<stateDir>/dirs/<hash>.journal`) so that the next push of the directory to the same store
 * can reuse them when this one is killed or fails before its commit (push-resume.ts). After a
 * first line naming the directory and the store: a line per pack as its upload starts (id, size,
 * chunks), and one more once the store confirmed it (its version token). Each line is
 * `<checksum> <JSON>`: one a kill tore, or any damaged one, is skipped. Lines are written
 * synchronously, so a pack's line is on file before its upload starts and a kill can lose no
 * pack that landed; nothing is fsynced: a journal only saves uploads, and each pack it names is
 * checked in the store before it is reused. The file is rewritten (header, the packs still good,
 * then this push's) as the push starts its first upload, and removed once a generation is committed.
 */
export class PushJournal {
  readonly #file: string;
  readonly #header: string;
  readonly #kept: JournaledPack[];
  /** The open journal, once the first upload started; null after a write failed or it was closed. */
  #fd: number | null | undefined;

  /** `kept`: packs of an earlier push, checked in the store, that the new journal keeps naming. */
  constructor(stateDir: string, dir: string, store: string, kept: JournaledPack[]) {
    this.#file = statePath(stateDir, dir, 'journal');
    this.#header = line({ format: FORMAT, dir: path.resolve(dir), store });
    this.#kept = kept;
  }

  /**
   * The packs the journal of `dir` names for `store` (none when there is no journal, or it is
   * another store's), each line checked.
   */
  static async read(stateDir: string, dir: string, store: string): Promise<JournaledPack[]> {
    const packs = new Map<string, JournaledPack>();
    const input = createReadStream(statePath(stateDir, dir, 'journal'));
    const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY });
    try {
      let first = true;
      for await (const text of lines) {
        const json = parseLine(text);
        if (first) {
          const header = headerShape.safeParse(json);
          if (!header.success || header.data.dir !== path.resolve(dir) || header.data.store !== store)
            return [];
          first = false;
          continue;
        }
        const stored = storedShape.safeParse(json).data;
        const pack = stored && packs.get(stored.id);
        if (pack) pack.version = stored.version;
        else {
          const uploading = journaledPack(json);
          if (uploading) packs.set(uploading.id, uploading);
        }
      }
    } catch {
      // no journal, or an unreadable one: nothing to resume
    } finally {
      lines.close();
      input.destroy();
    }
    return [...packs.values()];
  }

  /** Records a pack whose upload starts (best effort: a journal that cannot be written only costs resuming). */
  uploading(pack: SealedPack): void {
    const rows = ChunkTable.empty();
    for (const c of pack.chunks) rows.push(c.hash, 0, c.offset, c.length);
    this.#write(line({ id: pack.id, size: pack.size, chunks: rows.toJSON() }));
  }

  /** Records the version token of a pack the store confirmed. */
  stored(id: string, version: string): void {
    this.#write(line({ id, version }));
  }

  /** Closes the file (a failed push leaves it for the next). */
  close(): void {
    if (typeof this.#fd === 'number') closeSync(this.#fd);
    this.#fd = null;
  }

  /** Removes the journal: a generation was committed, nothing in it is needed to resume. */
  async remove(): Promise<void> {
    this.close();
    await rm(this.#file, { force: true });
  }

  #write(text: string): void {
    if (this.#fd === undefined) this.#fd = this.#create();
    if (this.#fd === null) return;
    try {
      writeSync(this.#fd, text);
    } catch {
      this.close();
    }
  }

  /** A new journal file holding the header and the kept packs, in place of the old one. */
  #create(): number | null {
    const tmp = `${this.#file}.${randomBytes(4).toString('hex')}.tmp`;
    let fd: number | undefined;
    try {
      mkdirSync(path.dirname(this.#file), { recursive: true, mode: 0o700 });
      fd = openSync(tmp, 'w', 0o600);
      const kept = this.#kept.flatMap((p) => [
        line({ id: p.id, size: p.size, chunks: p.chunks.toJSON() }),
        ...(p.version === undefined ? [] : [line({ id: p.id, version: p.version })]),
      ]);
      writeSync(fd, [this.#header, ...kept].join(''));
      renameSync(tmp, this.#file);
      return fd;
    } catch {
      if (fd !== undefined) closeSync(fd);
      rmSync(tmp, { force: true });
      return null;
    }
  }
}

/** `<checksum> <JSON>\n`: the checksum is the first 16 bytes of the JSON's SHA-256, in hex. */
function line(value: object): string {
  const json = JSON.stringify(value);
  return `${checksum(json)} ${json}\n`;
}

/** The JSON of a line whose checksum matches; undefined for a torn or damaged line. */
function parseLine(text: string): unknown {
  const space = text.indexOf(' ');
  const json = text.slice(space + 1);
  if (space !== 32 || text.slice(0, space) !== checksum(json)) return undefined;
  try {
    return JSON.parse(json);
  } catch {
    return undefined;
  }
}

function checksum(json: string): string {
  return createHash('sha256').update(json).digest('hex').slice(0, 32);
}

/** A pack line's pack, when every chunk lies within it. */
function journaledPack(json: unknown): JournaledPack | undefined {
  const parsed = packShape.safeParse(json);
  if (!parsed.success) return undefined;
  const { id, size } = parsed.data;
  const chunks = ChunkTable.fromBase64(parsed.data.chunks);
  if (!chunks || chunks.count === 0) return undefined;
  for (let i = 0; i < chunks.count; i++) {
    const length = chunks.lengthOf(i);
    if (
      chunks.packOf(i) !== 0 ||
      length === 0 ||
      length > MAX_CHUNK_BYTES ||
      chunks.offsetOf(i) + length > size
    )
      return undefined;
  }
  return { id, size, chunks };
}
