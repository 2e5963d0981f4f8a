import { lstat, open } from 'node:fs/promises';
import pLimit from 'p-limit';
import { throwIfAborted } from '../errors.js';
import type { ChunkerPool } from './chunking/index.js';
import type { LocalState } from './local-state.js';
import type { FileEntry, Manifest } from './manifest.js';
import { resolveInside } from './rel-path.js';
import { sameStamp, stampOf } from './scan.js';

/** A file of the current directory known (by its unchanged stamp) to hold a recorded entry's bytes. */
export interface TrustedFile {
  abs: string;
  entry: FileEntry;
}

/** Bytes read from local files at once when copying chunks. */
const RUN_BYTES = 8 * 1024 * 1024;

/** The files of `root` whose stamps still match the local record, by relative path. */
export async function trustedFiles(root: string, state: LocalState): Promise<Map<string, TrustedFile>> {
  const out = new Map<string, TrustedFile>();
  for (const entry of state.manifest.entries) {
    if (entry.type !== 'file') continue;
    let abs: string;
    try {
      abs = resolveInside(root, entry.path);
    } catch {
      continue;
    }
    const st = await lstat(abs, { bigint: true }).catch(() => undefined);
    if (st?.isFile() && sameStamp(stampOf(st), state.stamps[entry.path])) out.set(entry.path, { abs, entry });
  }
  return out;
}

/** The chunk hashes (and zero runs) of a file entry, independent of chunk table order. */
function contentOf(entry: FileEntry, manifest: Manifest): string {
  return entry.extents.map((x) => (x < 0 ? x : manifest.chunks[x]![3])).join(',');
}

/** True when `local` holds exactly `wanted`: same bytes, mode and time (so it can be hard-linked). */
export function identical(
  local: TrustedFile,
  recorded: Manifest,
  wanted: FileEntry,
  manifest: Manifest,
): boolean {
  const a = local.entry;
  return (
    a.size === wanted.size &&
    a.mode === wanted.mode &&
    a.mtimeMs === wanted.mtimeMs &&
    contentOf(a, recorded) === contentOf(wanted, manifest)
  );
}

/**
 * Copies the chunks `wanted` (chunk index → hash) that trusted local files hold: reads each file
 * in order, several adjacent chunks per read, checks every chunk's SHA-256 (on a worker, with
 * `hash`) and hands the matching ones of each read to `deliver` (their bytes are only valid until
 * it resolves). Returns the indexes delivered; a chunk whose local bytes do not match is simply
 * left to be downloaded.
 */
export async function copyLocalChunks(
  files: Map<string, TrustedFile>,
  recorded: Manifest,
  wanted: Map<string, number>,
  options: {
    hash: ChunkerPool['hash'];
    deliver: (chunks: { index: number; data: Buffer }[]) => Promise<void>;
    signal?: AbortSignal;
  },
): Promise<Set<number>> {
  const { hash, deliver, signal } = options;
  const plan = new Map<string, { offset: number; length: number; index: number; hash: string }[]>();
  const planned = new Set<number>();
  for (const file of files.values()) {
    let offset = 0;
    for (const x of file.entry.extents) {
      if (x < 0) {
        offset -= x;
        continue;
      }
      const [, , length, hash] = recorded.chunks[x]!;
      const index = wanted.get(hash);
      if (index !== undefined && !planned.has(index)) {
        planned.add(index);
        const list = plan.get(file.abs) ?? [];
        list.push({ offset, length, index, hash });
        plan.set(file.abs, list);
      }
      offset += length;
    }
  }
  const done = new Set<number>();
  const limit = pLimit(2);
  await Promise.all(
    [...plan].map(([abs, chunks]) =>
      limit(async () => {
        const handle = await open(abs, 'r');
        let arena = new ArrayBuffer(0); // reused from run to run (via the worker and back)
        try {
          for (let i = 0; i < chunks.length; ) {
            throwIfAborted(signal, 'pull', abs);
            // one read for a run of adjacent chunks
            let j = i + 1;
            while (
              j < chunks.length &&
              chunks[j]!.offset === chunks[j - 1]!.offset + chunks[j - 1]!.length &&
              chunks[j]!.offset + chunks[j]!.length - chunks[i]!.offset <= RUN_BYTES
            ) {
              j++;
            }
            const start = chunks[i]!.offset;
            const length = chunks[j - 1]!.offset + chunks[j - 1]!.length - start;
            if (arena.byteLength < length) arena = new ArrayBuffer(Math.max(length, RUN_BYTES));
            const { bytesRead } = await handle.read(new Uint8Array(arena, 0, length), 0, length, start);
            const run = chunks.slice(i, j).filter((c) => c.offset - start + c.length <= bytesRead);
            const hashed = await hash(
              arena,
              run.map((c) => ({ offset: c.offset - start, length: c.length })),
            );
            arena = hashed.buffer;
            const good = run
              .filter((c, k) => hashed.hashes[k] === c.hash)
              .map((c) => ({ index: c.index, data: Buffer.from(arena, c.offset - start, c.length) }));
            await deliver(good);
            for (const chunk of good) done.add(chunk.index);
            i = j;
          }
        } finally {
          await handle.close();
        }
      }),
    ),
  );
  return done;
}
