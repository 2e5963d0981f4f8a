import { createHash } from 'node:crypto';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import { ChunkTable } from './chunk-table.js';
import { MAX_CHUNK_BYTES } from './chunking/options.js';
import { isGenerationId } from './names.js';
import { pathProblem } from './rel-path.js';

/** The format written; format 1 (chunk rows as JSON tuples) is still read. */
export const MANIFEST_FORMAT = 'ckpt-manifest/2';
const FORMAT_1 = 'ckpt-manifest/1';

/**
 * Most entries (files, directories, symlinks) a manifest may hold: a CRIU checkpoint has hundreds
 * to thousands; the limit bounds the memory a hostile manifest can make a reader spend.
 */
export const MAX_ENTRIES = 250_000;

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const uint = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const mode = z.number().int().min(0).max(0o7777);

const fileEntry = z.strictObject({
  path: z.string(),
  type: z.literal('file'),
  mode,
  size: uint,
  mtimeMs: z.number(),
  /** `n >= 0`: chunk `n` of the chunk table; `n < 0`: a run of `-n` zero bytes. */
  extents: z.array(z.number().int()),
});
const dirEntry = z.strictObject({ path: z.string(), type: z.literal('dir'), mode, mtimeMs: z.number() });
const linkEntry = z.strictObject({
  path: z.string(),
  type: z.literal('symlink'),
  target: z.string().min(1).max(4096),
});

/**
 * Totals over the files, written before the tables so `ls` can read them without the rest.
 * `addedBytes`: chunk bytes in packs the generation's push stored itself, which no earlier
 * generation holds (absent in manifests written before it was recorded).
 */
const summary = z.strictObject({
  files: uint,
  bytes: uint,
  zeroBytes: uint,
  storedBytes: uint,
  addedBytes: uint.optional(),
});

/** What comes before the chunk table: small, readable from a manifest's first bytes (`readManifestHead`). */
const headShape = z.strictObject({
  format: z.enum([FORMAT_1, MANIFEST_FORMAT]),
  model: z.string(),
  generation: z.string().refine(isGenerationId, 'not a generation id'),
  parent: z.string().nullable(),
  createdAt: z.string(),
  labels: z.record(z.string(), z.string()),
  chunking: z.record(z.string(), z.number()),
  summary: summary.optional(),
  /** Pack ids (see layout.ts); chunk rows point into this list. */
  packs: z.array(z.string().regex(/^[0-9a-f]{32}$/)),
});

const manifestSchema = headShape.extend({
  /**
   * One row per distinct chunk: SHA-256, pack index, offset in the pack, length. Format 2: base64
   * of 44-byte rows (see chunk-rows.ts); format 1: `[pack index, offset, length, sha256 hex]` tuples.
   */
  chunks: z.union([z.string(), z.array(z.tuple([uint, uint, uint.min(1), hex64]))]),
  entries: z.array(z.discriminatedUnion('type', [fileEntry, dirEntry, linkEntry])).max(MAX_ENTRIES),
  checksum: hex64,
});

/** What comes before the pack list: what `ls` shows of a generation. */
const leadShape = headShape.omit({ packs: true }).required({ summary: true });

/** A manifest's head: everything before its chunk table. */
export type ManifestHead = z.infer<typeof headShape>;
/** A manifest's lead: its head up to its pack list, with a summary. */
export type ManifestLead = z.infer<typeof leadShape>;
export type ManifestSummary = z.infer<typeof summary>;

/** The first bytes of a manifest that may hold its head; a head that does not fit is read whole. */
export const MAX_HEAD_BYTES = 4 * 1024 * 1024;

/**
 * The head of a manifest from its first bytes, when they hold it in the layout this module
 * writes (the chunk table after the packs); undefined otherwise. Not checked against the
 * manifest's checksum: the caller hashes the whole text (`readManifestHead`).
 */
export function parseManifestHead(first: Buffer, key: string): ManifestHead | undefined {
  const end = first.indexOf(',"chunks":');
  if (end < 0 || first[0] !== 0x7b) return undefined;
  return parseOpening(first.subarray(0, end), headShape, key);
}

/**
 * The JSON object whose first keys `text` holds (closed here with a brace), checked by `shape`:
 * undefined when it is no JSON, `Integrity` naming the field when it does not fit the shape.
 */
function parseOpening<T>(text: Buffer, shape: z.ZodType<T>, key: string): T | undefined {
  let json: unknown;
  try {
    json = JSON.parse(`${text.toString('utf8')}}`);
  } catch {
    return undefined;
  }
  const parsed = shape.safeParse(json);
  if (!parsed.success)
    throw invalid(key, `${parsed.error.issues[0]!.path.join('.')}: ${parsed.error.issues[0]!.message}`);
  return parsed.data;
}

/**
 * The metadata a manifest is stored with where the store keeps metadata: `<length>:<sha256 hex>`
 * of its lead (its text up to the pack list), so that a ranged read of its first bytes shows a
 * generation, checked, whatever the size of its tables (`readManifestLead`).
 */
export const LEAD_METADATA = 'ckpt-lead';

/** The {@link LEAD_METADATA} of a manifest's bytes as `sealAndEncode` writes them; undefined for another layout. */
export function leadTag(bytes: Uint8Array): string | undefined {
  const end = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).indexOf(',"packs":');
  if (end < 0) return undefined;
  return `${end}:${createHash('sha256').update(bytes.subarray(0, end)).digest('hex')}`;
}

/**
 * A manifest's lead from its first bytes when they hold the text `tag` names (its length and
 * SHA-256); undefined when they do not (too few bytes, another text): the caller reads the
 * manifest otherwise. A lead that matches its tag but not the schema is `Integrity`.
 */
export function parseTaggedLead(first: Buffer, tag: string, key: string): ManifestLead | undefined {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(tag);
  const end = Number(match?.[1]);
  if (!match || end > first.length) return undefined;
  const lead = first.subarray(0, end);
  if (createHash('sha256').update(lead).digest('hex') !== match[2]) return undefined;
  return parseOpening(lead, leadShape, key);
}

/** A manifest in memory: its chunk table packed (it serialises as format 2). */
export type Manifest = Omit<z.infer<typeof manifestSchema>, 'chunks'> & { chunks: ChunkTable };
export type ManifestEntry = Manifest['entries'][number];
export type FileEntry = z.infer<typeof fileEntry>;
export type DirEntry = z.infer<typeof dirEntry>;

/** The manifest's own checksum: SHA-256 of its JSON without the `checksum` field. */
function checksumOf(manifest: object): string {
  const { checksum: _omit, ...rest } = manifest as { checksum?: unknown };
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** The manifest with its checksum. */
export function sealManifest(manifest: Omit<Manifest, 'checksum'>): Manifest {
  return { ...manifest, checksum: checksumOf(manifest) };
}

/** `manifest` in the current format (sealed again when it was read in an older one). */
export function currentFormat(manifest: Manifest): Manifest {
  if (manifest.format === MANIFEST_FORMAT) return manifest;
  const { checksum: _omit, ...rest } = manifest;
  return sealManifest({ ...rest, format: MANIFEST_FORMAT });
}

/** Serialises a sealed manifest. */
export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
}

/**
 * Seals and serialises `manifest`: the bytes are the checksummed text with `"checksum"` added as
 * the last key, exactly `encodeManifest(sealManifest(manifest))`. The text is written straight
 * into the bytes, key by key, the chunk table's base64 a slice at a time: a large checkpoint's
 * manifest (tens of MiB) exists once, as these bytes, never also as one string.
 */
export function sealAndEncode(manifest: Omit<Manifest, 'checksum'>): { manifest: Manifest; bytes: Buffer } {
  const parts: (string | ChunkTable)[] = [];
  for (const [key, value] of Object.entries(manifest)) {
    const json = value instanceof ChunkTable ? value : JSON.stringify(value);
    if (json === undefined) continue; // as JSON.stringify leaves the key out
    parts.push(`${parts.length === 0 ? '{' : ','}${JSON.stringify(key)}:`, json);
  }
  const length = (part: string | ChunkTable) =>
    typeof part === 'string' ? Buffer.byteLength(part) : part.jsonLength();
  const body = parts.reduce((sum, part) => sum + length(part), 0); // all but the closing brace
  const bytes = Buffer.allocUnsafe(body + CHECKSUM_TAIL.length);
  let at = 0;
  for (const part of parts)
    at += typeof part === 'string' ? bytes.write(part, at) : part.writeJson(bytes, at);
  if (at !== body) throw new Error(`internal error: manifest text of ${at} bytes, ${body} expected`);
  const checksum = bodyDigest(bytes, body);
  bytes.write(`,"checksum":"${checksum}"}`, body, 'latin1');
  return { manifest: { ...manifest, checksum }, bytes };
}

/** What a manifest serialised by this module ends with: the checksum, its last key. */
const CHECKSUM_TAIL = ',"checksum":"0000000000000000000000000000000000000000000000000000000000000000"}';

/** What the checksum covers: SHA-256 of `bytes[0, body)`, the JSON before the checksum, closed. */
function bodyDigest(bytes: Uint8Array, body: number): string {
  return createHash('sha256').update(bytes.subarray(0, body)).update('}').digest('hex');
}

/**
 * Checks a manifest's text against the checksum it ends with while it streams past, holding
 * only its last bytes: {@link verified} is true when the text ends the way this module writes it
 * and its checksum matches.
 */
export class ManifestDigest {
  readonly #hash = createHash('sha256');
  /** The last bytes seen, not hashed yet: they may be the checksum tail. */
  #held = Buffer.alloc(0);

  update(piece: Uint8Array): void {
    const tail = CHECKSUM_TAIL.length;
    if (piece.length >= tail) {
      this.#hash.update(this.#held);
      this.#hash.update(piece.subarray(0, piece.length - tail));
      this.#held = Buffer.from(piece.subarray(piece.length - tail));
      return;
    }
    const joined = Buffer.concat([this.#held, piece]);
    const cut = Math.max(0, joined.length - tail);
    this.#hash.update(joined.subarray(0, cut));
    this.#held = joined.subarray(cut);
  }

  verified(): boolean {
    const claimed = claimedChecksum(this.#held);
    return claimed !== undefined && this.#hash.update('}').digest('hex') === claimed;
  }
}

/**
 * The checksum `bytes` claim, when they end the way this module writes them, and the SHA-256 of
 * the text before it (what the checksum covers): checking a manifest this way needs no second
 * serialisation of it. Undefined for any other layout (another writer's whitespace or key order).
 */
function trailingChecksum(bytes: Uint8Array): { claimed: string; actual: string } | undefined {
  const body = bytes.length - CHECKSUM_TAIL.length;
  if (body < 1) return undefined;
  const claimed = claimedChecksum(Buffer.from(bytes.buffer, bytes.byteOffset + body, CHECKSUM_TAIL.length));
  return claimed ? { claimed, actual: bodyDigest(bytes, body) } : undefined;
}

/** The checksum a manifest's last bytes name, when they are the tail this module writes. */
function claimedChecksum(tail: Buffer): string | undefined {
  if (tail.length !== CHECKSUM_TAIL.length) return undefined;
  return /^,"checksum":"([0-9a-f]{64})"}$/.exec(tail.toString('latin1'))?.[1];
}

/**
 * Parses and fully validates a manifest read from `key`: JSON, schema, checksum, expected model
 * and generation, every path safe and every parent a directory of the manifest, extents that
 * point at real chunks and add up to each file's size. Throws `Integrity` naming what is wrong.
 */
export function decodeManifest(
  bytes: Uint8Array,
  key: string,
  expect?: { model: string; generation: string },
): Manifest {
  // entries cost hundreds of bytes of memory each once parsed: count them in the text first
  if (countEntries(bytes) > MAX_ENTRIES) throw invalid(key, `more than ${MAX_ENTRIES} entries`);
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'));
  } catch {
    throw invalid(key, 'not JSON');
  }
  const digest = trailingChecksum(bytes);
  // the text's own digest settles it when it matches the checksum it ends with
  return manifestFromJson(
    json,
    key,
    expect,
    digest && digest.actual === digest.claimed ? digest.claimed : undefined,
  );
}

/** Entries in a manifest's text as this module writes it (each has one `"path":` key); 0 for other layouts. */
function countEntries(bytes: Uint8Array): number {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  let count = 0;
  for (let at = text.indexOf('"path":'); at >= 0; at = text.indexOf('"path":', at + 7)) count++;
  return count;
}

function invalid(key: string, detail: string): StoreError {
  return new StoreError('Integrity', `manifest is invalid: ${detail}`, { operation: 'read manifest', key });
}

/**
 * {@link decodeManifest} of an already parsed JSON value. `verified`: the checksum the raw text
 * was already found to match (the text need not be serialised again to check it).
 */
export function manifestFromJson(
  json: unknown,
  key: string,
  expect?: { model: string; generation: string },
  verified?: string,
): Manifest {
  const fail = (detail: string): never => {
    throw invalid(key, detail);
  };
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const { chunks: raw, ...fields } = parsed.data;
  if (verified !== fields.checksum && checksumOf(json as object) !== fields.checksum) {
    fail('checksum mismatch (corrupt manifest)');
  }
  if (expect && (fields.model !== expect.model || fields.generation !== expect.generation)) {
    fail(`it describes ${fields.model}@${fields.generation}, not ${expect.model}@${expect.generation}`);
  }
  let chunks: ChunkTable | undefined;
  if (fields.format === FORMAT_1 && Array.isArray(raw)) {
    try {
      chunks = ChunkTable.fromTuples(raw);
    } catch (err) {
      fail(`chunks: ${(err as Error).message}`);
    }
  } else if (fields.format === MANIFEST_FORMAT && typeof raw === 'string')
    chunks = ChunkTable.fromBase64(raw);
  if (!chunks) return fail(`chunks: not the encoding of ${fields.format}`);
  // same key order as the JSON, so that it serialises to the same checksummed text
  const m: Manifest = { ...parsed.data, chunks };
  for (let i = 0; i < chunks.count; i++) {
    const pack = chunks.packOf(i);
    if (pack >= m.packs.length) fail(`chunk ${i} points at pack ${pack} of ${m.packs.length}`);
    if (chunks.lengthOf(i) === 0) fail(`chunk ${i} is empty`);
    if (chunks.lengthOf(i) > MAX_CHUNK_BYTES) fail(`chunk ${i} is longer than ${MAX_CHUNK_BYTES} bytes`);
  }
  const kinds = new Map<string, ManifestEntry['type']>();
  for (const entry of m.entries) {
    const problem = pathProblem(entry.path);
    if (problem) fail(`path ${JSON.stringify(entry.path)}: ${problem}`);
    if (kinds.has(entry.path)) fail(`path ${JSON.stringify(entry.path)} appears twice`);
    const parent = entry.path.includes('/') ? entry.path.slice(0, entry.path.lastIndexOf('/')) : undefined;
    if (parent !== undefined && kinds.get(parent) !== 'dir') {
      fail(`path ${JSON.stringify(entry.path)}: its parent is not a directory listed before it`);
    }
    kinds.set(entry.path, entry.type);
    if (entry.type === 'file') {
      let total = 0;
      for (const extent of entry.extents) {
        if (extent < 0) total -= extent;
        else {
          if (extent >= chunks.count)
            return fail(`file ${JSON.stringify(entry.path)} points at chunk ${extent} of ${chunks.count}`);
          total += chunks.lengthOf(extent);
        }
      }
      if (total !== entry.size)
        fail(`file ${JSON.stringify(entry.path)}: extents add up to ${total}, size is ${entry.size}`);
    }
  }
  return m;
}

/** Totals over a manifest's files. */
export function manifestTotals(m: Manifest) {
  let files = 0;
  let bytes = 0;
  let zeroBytes = 0;
  for (const entry of m.entries) {
    if (entry.type !== 'file') continue;
    files++;
    bytes += entry.size;
    for (const extent of entry.extents) if (extent < 0) zeroBytes -= extent;
  }
  const storedBytes = m.chunks.totalLength();
  return { files, bytes, zeroBytes, storedBytes };
}
