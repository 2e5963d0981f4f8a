import pLimit from 'p-limit';
import { StoreError } from '../errors.js';
import type { ChunkTableBuilder, IntactCheck } from './chunk-table-builder.js';
import type { EngineContext } from './engine-context.js';
import { fetchChunks } from './fetch-chunks.js';
import { packKey } from './layout.js';
import type { Manifest } from './manifest.js';
import { Progress } from './progress.js';
import type { CallOptions } from './types.js';

/**
 * Which stored chunks of a push's bases are intact, so that it may reuse them: the chunk's pack
 * exists and reaches past the chunk's end, and no read of the chunk found bytes that do not match
 * its hash. A chunk that is not intact is not there: its bytes are uploaded again.
 */
export class BaseCheck {
  /** Each base pack's size; 0 for a pack that is gone. */
  readonly #sizes: ReadonlyMap<string, number>;
  /** Offsets of chunks whose bytes did not match their hash, by pack. */
  readonly #bad = new Map<string, Set<number>>();

  constructor(sizes: ReadonlyMap<string, number>) {
    this.#sizes = sizes;
  }

  intact: IntactCheck = (packId, offset, length) =>
    offset + length <= (this.#sizes.get(packId) ?? 0) && !this.#bad.get(packId)?.has(offset);

  markBad(packId: string, offset: number): void {
    const bad = this.#bad.get(packId) ?? new Set();
    this.#bad.set(packId, bad.add(offset));
  }
}

/**
 * Checks the packs of `manifests` (a push's bases): every pack is HEADed, so a pack that is gone
 * or shorter than its chunks need is seen at the cost of one request. With `repair`, every other
 * chunk is read back and hashed too (`fetchChunks`: bounded memory, the store's concurrency; a
 * location two bases share is read once), which finds bytes that rotted or were replaced.
 */
export async function checkBases(
  ctx: EngineContext,
  manifests: (Manifest | undefined)[],
  options: CallOptions & { repair?: boolean } = {},
): Promise<BaseCheck> {
  const bases = manifests.filter((m) => m !== undefined);
  const check = new BaseCheck(await packSizes(ctx, bases, options.signal));
  if (!options.repair || bases.length === 0) return check;
  const toRead = bases.map((_, k) => Int32Array.from(storedChunks(bases, k, check)));
  const bytes = toRead.reduce((sum, indices, k) => {
    for (const i of indices) sum += bases[k]!.chunks.lengthOf(i);
    return sum;
  }, 0);
  const progress = new Progress('verify', { bytes, files: 0 }, options.onProgress);
  for (const [k, base] of bases.entries()) {
    const rows = base.chunks;
    await fetchChunks(ctx, base, toRead[k]!, {
      signal: options.signal,
      deliver: (chunks) => {
        for (const { data } of chunks) progress.add(data.length);
      },
      describe: () => `${base.model} generation ${base.generation}`,
      onProblem: (i) => check.markBad(base.packs[rows.packOf(i)]!, rows.offsetOf(i)),
    });
  }
  progress.done();
  return check;
}

/** What the damage of the parent generation means for this push. */
export interface ParentDamage {
  /** Chunks of the parent that are not intact. */
  damagedChunks: number;
  /** Files of the parent that need a damaged chunk the new generation does not hold. */
  unrepairedFiles: string[];
}

/** The parent's chunks that `check` found damaged, and the parent's files `table` (the new generation) leaves broken. */
export function parentDamage(
  parent: Manifest | undefined,
  check: BaseCheck,
  table: ChunkTableBuilder,
): ParentDamage {
  if (!parent) return { damagedChunks: 0, unrepairedFiles: [] };
  const rows = parent.chunks;
  const lost = new Set<number>();
  let damagedChunks = 0;
  for (let i = 0; i < rows.count; i++) {
    if (check.intact(parent.packs[rows.packOf(i)]!, rows.offsetOf(i), rows.lengthOf(i))) continue;
    damagedChunks++;
    if (table.indexOf(rows.hashOf(i)) === undefined) lost.add(i);
  }
  const unrepairedFiles = parent.entries.flatMap((e) =>
    lost.size > 0 && e.type === 'file' && e.extents.some((x) => lost.has(x)) ? [e.path] : [],
  );
  return { damagedChunks, unrepairedFiles };
}

/** The size of every pack of `bases` (0: gone). */
async function packSizes(
  ctx: EngineContext,
  bases: Manifest[],
  signal?: AbortSignal,
): Promise<Map<string, number>> {
  const sizes = new Map<string, number>();
  const limit = pLimit(Math.max(4, ctx.concurrency * 2));
  await Promise.all(
    [...new Set(bases.flatMap((m) => m.packs))].map((id) =>
      limit(async () => {
        const size = await ctx.store.head(packKey(id), { signal }).then(
          (meta) => meta.size,
          (err) => {
            if (StoreError.is(err, 'NotFound')) return 0;
            throw err;
          },
        );
        sizes.set(id, size);
      }),
    ),
  );
  return sizes;
}

/** The chunks of `bases[k]` that the HEADs found in place, but for those an earlier base stores at the same place. */
function* storedChunks(bases: Manifest[], k: number, check: BaseCheck): Generator<number> {
  const { chunks: rows, packs } = bases[k]!;
  for (let i = 0; i < rows.count; i++) {
    const packId = packs[rows.packOf(i)]!;
    const offset = rows.offsetOf(i);
    if (!check.intact(packId, offset, rows.lengthOf(i))) continue;
    if (!storedEarlier(bases, k, rows.hashOf(i), packId, offset)) yield i;
  }
}

/** True when one of `bases[0..k)` stores chunk `hash` in pack `packId` at `offset` too. */
function storedEarlier(bases: Manifest[], k: number, hash: string, packId: string, offset: number): boolean {
  for (let b = 0; b < k; b++) {
    const { chunks, packs } = bases[b]!;
    const j = chunks.indexOf(hash);
    if (j !== undefined && packs[chunks.packOf(j)] === packId && chunks.offsetOf(j) === offset) return true;
  }
  return false;
}
