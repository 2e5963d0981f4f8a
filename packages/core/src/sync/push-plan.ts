import type { ChunkPacker } from './chunk-packer.js';
import type { LocalState } from './local-state.js';
import type { ScannedFile } from './scan.js';
import { sameStamp } from './stamp.js';

/** What a push takes without reading: files unchanged since the local record, with their extents. */
export interface ReusePlan {
  /** Extents (chunk table indexes, zero runs as negative lengths) of the files not read again. */
  reused: Map<string, number[]>;
  /** Zero-run bytes of those files. */
  zeroBytes: number;
  /** The files that must be read and chunked. */
  toRead: ScannedFile[];
}

/**
 * Plans which files a push can take from the local record of its last push or pull (`previous`)
 * without reading them: an empty file, or one whose stamp is unchanged and whose every chunk is
 * still stored (`chunks`). Everything else is read.
 */
export function planReuse(
  files: ScannedFile[],
  previous: LocalState | undefined,
  chunks: Pick<ChunkPacker, 'has' | 'reuse'>,
): ReusePlan {
  const plan: ReusePlan = { reused: new Map(), zeroBytes: 0, toRead: [] };
  const recorded = new Map(previous?.manifest.entries.map((e) => [e.path, e]));
  for (const file of files) {
    if (file.size === 0) {
      plan.reused.set(file.path, []);
      continue;
    }
    const old = recorded.get(file.path);
    const hashes =
      previous &&
      old?.type === 'file' &&
      old.size === file.size &&
      sameStamp(previous.stamps[file.path], file.stat)
        ? old.extents.map((x) => (x < 0 ? x : previous.manifest.chunks.hashOf(x)))
        : undefined;
    if (!hashes?.every((h) => typeof h === 'number' || chunks.has(h))) {
      plan.toRead.push(file);
      continue;
    }
    plan.reused.set(
      file.path,
      hashes.map((h) => {
        if (typeof h === 'string') return chunks.reuse(h);
        plan.zeroBytes -= h;
        return h;
      }),
    );
  }
  return plan;
}
