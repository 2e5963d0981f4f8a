import { createHash } from 'node:crypto';
import { z } from 'zod';
import { StoreError } from '../errors.js';
import { isGenerationId } from './names.js';
import { pathProblem } from './rel-path.js';

export const MANIFEST_FORMAT = 'ckpt-manifest/1';

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

const manifestSchema = z.strictObject({
  format: z.literal(MANIFEST_FORMAT),
  model: z.string(),
  generation: z.string().refine(isGenerationId, 'not a generation id'),
  parent: z.string().nullable(),
  createdAt: z.string(),
  labels: z.record(z.string(), z.string()),
  chunking: z.record(z.string(), z.number()),
  /** Pack ids (see layout.ts); chunk rows point into this list. */
  packs: z.array(z.string().regex(/^[0-9a-f]{32}$/)),
  /** `[pack index, offset in pack, length, sha256]`, one row per distinct chunk. */
  chunks: z.array(z.tuple([uint, uint, uint.min(1), hex64])),
  entries: z.array(z.discriminatedUnion('type', [fileEntry, dirEntry, linkEntry])),
  checksum: hex64,
});

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestEntry = Manifest['entries'][number];
export type FileEntry = z.infer<typeof fileEntry>;
export type ChunkRow = Manifest['chunks'][number];

/** The manifest's own checksum: SHA-256 of its JSON without the `checksum` field. */
function checksumOf(manifest: Omit<Manifest, 'checksum'>): string {
  const { checksum: _omit, ...rest } = manifest as Manifest;
  return createHash('sha256').update(JSON.stringify(rest)).digest('hex');
}

/** The manifest with its checksum. */
export function sealManifest(manifest: Omit<Manifest, 'checksum'>): Manifest {
  return { ...manifest, checksum: checksumOf(manifest) };
}

/** Serialises a sealed manifest. */
export function encodeManifest(manifest: Manifest): Buffer {
  return Buffer.from(JSON.stringify(manifest));
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
) {
  const fail = (detail: string): never => {
    throw new StoreError('Integrity', `manifest is invalid: ${detail}`, { operation: 'read manifest', key });
  };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return fail('not JSON');
  }
  const parsed = manifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return fail(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const m = parsed.data;
  if (checksumOf(m) !== m.checksum) fail('checksum mismatch (corrupt manifest)');
  if (expect && (m.model !== expect.model || m.generation !== expect.generation)) {
    fail(`it describes ${m.model}@${m.generation}, not ${expect.model}@${expect.generation}`);
  }
  for (const [i, [pack, , ,]] of m.chunks.entries()) {
    if (pack >= m.packs.length) fail(`chunk ${i} points at pack ${pack} of ${m.packs.length}`);
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
          const row = m.chunks[extent];
          if (!row)
            return fail(`file ${JSON.stringify(entry.path)} points at chunk ${extent} of ${m.chunks.length}`);
          total += row[2];
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
  const storedBytes = m.chunks.reduce((sum, row) => sum + row[2], 0);
  return { files, bytes, zeroBytes, storedBytes };
}
