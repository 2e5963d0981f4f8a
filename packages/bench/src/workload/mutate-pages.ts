import { freshRegion } from './layout.js';
import type { CheckpointPlan, PlannedFile } from './model.js';
import { PAGE_BYTES } from './options.js';
import type { PageKind, Segment } from './page-content.js';
import type { Rng, RngFor } from './rng.js';
import { clusteredRuns, countPages, replaceRuns, spliceSegments } from './segments.js';

/** The kind of data a zero page becomes: random or text, in the proportion of the mix. */
function dataKind(rng: Rng, next: CheckpointPlan): PageKind {
  const { random, text } = next.config.mix;
  return random + text > 0 && rng.next() * (random + text) < text ? 'text' : 'random';
}

/**
 * In-place changes of one pages file, each in clustered runs: data pages become zero, zero pages
 * become data, data pages are rewritten (random and dictionary pages with fresh random bytes,
 * text pages with fresh text).
 */
function changePages(next: CheckpointPlan, rngFor: RngFor, file: number, segments: Segment[]): Segment[] {
  const c = next.config;
  const runs = (rng: Rng, fraction: number) => clusteredRuns(rng, countPages(segments), fraction, c.runPages);
  const toZero = rngFor('data-to-zero', file);
  segments = replaceRuns(segments, runs(toZero, c.dataToZeroFraction), (p) =>
    p.kind === 'zero' ? [p] : [{ kind: 'zero', stream: 0, start: 0, pages: p.pages }],
  );
  const toData = rngFor('zero-to-data', file);
  segments = replaceRuns(segments, runs(toData, c.zeroToDataFraction), (p) =>
    p.kind === 'zero' ? [freshRegion(next, toData, dataKind(toData, next), p.pages, c)] : [p],
  );
  const rewrite = rngFor('rewrite', file);
  return replaceRuns(segments, runs(rewrite, c.rewriteFraction), (p) =>
    p.kind === 'zero' ? [p] : [freshRegion(next, rewrite, p.kind === 'text' ? 'text' : 'random', p.pages, c)],
  );
}

/** A pages file chosen with probability proportional to its length. */
function pickFile(rng: Rng, files: Segment[][]): number {
  const weights = Object.fromEntries(files.map((s, i) => [String(i), countPages(s)]));
  return Number(rng.weighted(weights));
}

/**
 * The pages files of version n + 1: in-place changes, then deleted and inserted page-aligned
 * regions that shift everything after them.
 */
export function mutatePagesFiles(next: CheckpointPlan, rngFor: RngFor, files: PlannedFile[]): PlannedFile[] {
  const c = next.config;
  const contents = files.map((f, i) => changePages(next, rngFor, i, f.segments));
  const rng = rngFor('insert-delete');
  for (let i = 0; i < c.deletes + c.inserts; i++) {
    const target = pickFile(rng, contents);
    const segments = contents[target]!;
    const pages = countPages(segments);
    const length = rng.logUniform(c.insertPages.min, c.insertPages.max);
    if (i < c.deletes) {
      const cut = Math.min(length, pages - 1);
      if (cut > 0) contents[target] = spliceSegments(segments, rng.int(pages - cut + 1), cut, []);
    } else {
      const region = freshRegion(next, rng, rng.weighted(c.mix), length, c);
      contents[target] = spliceSegments(segments, rng.int(pages + 1), 0, [region]);
    }
  }
  return files.map((f, i) => {
    const segments = contents[i]!;
    return { ...f, segments, size: countPages(segments) * PAGE_BYTES };
  });
}
