import { StoreError } from '@ckpt/core';
import { type CheckpointPlan, freshContent, ownedName, type PlannedFile, type ProcessInfo } from './model.js';
import {
  EMPTY_SMALL_FILE,
  mediumFileNames,
  newId,
  PROCESS_FILE_PREFIXES,
  rootfsFileNames,
  SHARED_SMALL_FILES,
  THREAD_FILE_PREFIX,
} from './names.js';
import { PAGE_BYTES, type PageMix, type WorkloadConfig } from './options.js';
import { DICTIONARY_STREAM, type PageKind, type Segment } from './page-content.js';
import { Rng, type WorkloadSeed } from './rng.js';
import { normalize } from './segments.js';

const KINDS: (keyof PageMix)[] = ['zero', 'random', 'dictionary', 'text'];

/** One region of fresh content of `kind`: a new stream, or a random place in the dictionary. */
export function freshRegion(
  plan: { nextStream: number },
  rng: Rng,
  kind: PageKind,
  pages: number,
  config: WorkloadConfig,
): Segment {
  if (kind === 'dictionary') {
    return { kind, stream: DICTIONARY_STREAM, start: rng.int(config.dictionaryPages), pages };
  }
  return { kind, stream: kind === 'zero' ? 0 : plan.nextStream++, start: 0, pages };
}

/**
 * The segments of one pages file: each kind gets its share of the pages (exactly, to the page),
 * cut into log-uniform regions, and all regions are shuffled together.
 */
function layoutPages(plan: CheckpointPlan, rng: Rng, pages: number): Segment[] {
  const { mix, regionPages } = plan.config;
  const regions: { kind: PageKind; pages: number }[] = [];
  let cumulative = 0;
  let placed = 0;
  for (const kind of KINDS) {
    cumulative += mix[kind];
    const upTo = kind === 'text' ? pages : Math.round(cumulative * pages);
    for (let left = upTo - placed; left > 0; ) {
      const length = Math.min(left, rng.logUniform(regionPages.min, regionPages.max));
      regions.push({ kind, pages: length });
      left -= length;
    }
    placed = upTo;
  }
  rng.shuffle(regions);
  return normalize(regions.map((r) => freshRegion(plan, rng, r.kind, r.pages, plan.config)));
}

/** Draws log-uniform sizes and scales them down together when they exceed `budget` bytes. */
function sizesWithin(rng: Rng, count: number, min: number, max: number, budget: number): number[] {
  const sizes = Array.from({ length: count }, () => rng.logUniform(min, max));
  const sum = sizes.reduce((a, b) => a + b, 0);
  const factor = sum > budget ? budget / sum : 1;
  return sizes.map((size) => Math.max(1, Math.floor(size * factor)));
}

function processTree(rng: Rng, config: WorkloadConfig): ProcessInfo[] {
  const used = new Set<number>();
  const processes = Array.from({ length: config.small.processes }, () => {
    const pid = newId(rng, used);
    return { pid, tids: [pid] };
  });
  // The engine process holds most threads: process i is chosen with weight 1 / (i + 1).
  const weights = Object.fromEntries(processes.map((_, i) => [String(i), 1 / (i + 1)]));
  for (let t = processes.length; t < config.small.threads; t++) {
    processes[Number(rng.weighted(weights))]!.tids.push(newId(rng, used));
  }
  return processes;
}

/** The small files: per-process and per-thread images, shared images and one empty image. */
function smallFiles(plan: CheckpointPlan, rng: Rng): PlannedFile[] {
  const { small, totalBytes } = plan.config;
  const owned: { prefix: string; id: number }[] = [];
  for (const p of plan.processes) {
    for (const prefix of PROCESS_FILE_PREFIXES) owned.push({ prefix, id: p.pid });
    for (const tid of p.tids) owned.push({ prefix: THREAD_FILE_PREFIX, id: tid });
  }
  const count = owned.length + SHARED_SMALL_FILES.length;
  const sizes = sizesWithin(rng, count, small.min, small.max, small.share * totalBytes);
  const files: PlannedFile[] = owned.map((owner, i) => ({
    path: ownedName(owner.prefix, owner.id),
    group: 'small',
    size: sizes[i]!,
    segments: freshContent(plan, 'text', sizes[i]!),
    owner,
  }));
  SHARED_SMALL_FILES.forEach((path, i) => {
    const size = sizes[owned.length + i]!;
    files.push({ path, group: 'small', size, segments: freshContent(plan, 'text', size) });
  });
  files.push({ path: EMPTY_SMALL_FILE, group: 'small', size: 0, segments: [] });
  return files;
}

function groupFiles(
  plan: CheckpointPlan,
  rng: Rng,
  group: 'medium' | 'rootfs',
  names: { path: string; kind: PageKind | 'empty' }[],
): PlannedFile[] {
  const { min, max, share } = plan.config[group];
  const sizes = sizesWithin(rng, names.length, min, max, share * plan.config.totalBytes);
  return names.map(({ path, kind }, i) => {
    const size = kind === 'empty' ? 0 : sizes[i]!;
    return { path, group, size, segments: kind === 'empty' ? [] : freshContent(plan, kind, size) };
  });
}

/** Version 0 of the workload of `seed` under `config`. */
export function layoutVersion0(seed: WorkloadSeed, config: WorkloadConfig): CheckpointPlan {
  const rng = new Rng(seed, 'layout');
  const plan: CheckpointPlan = { seed, version: 0, config, files: [], processes: [], nextStream: 1 };
  plan.processes = processTree(rng, config);
  const others = [
    ...groupFiles(plan, rng, 'medium', mediumFileNames(rng, config.medium.count)),
    ...groupFiles(plan, rng, 'rootfs', rootfsFileNames(rng, config.rootfs.count)),
    ...smallFiles(plan, rng),
  ];
  const otherBytes = others.reduce((sum, f) => sum + f.size, 0);
  const pages = Math.floor((config.totalBytes - otherBytes) / PAGE_BYTES);
  if (pages < config.pagesSplit.length) {
    throw new StoreError(
      'InvalidArgument',
      `totalBytes ${config.totalBytes} leaves no room for the pages files`,
      {
        operation: 'workload options',
      },
    );
  }
  let given = 0;
  let cumulative = 0;
  const pagesFiles = config.pagesSplit.map((weight, i): PlannedFile => {
    cumulative += weight;
    const last = config.pagesSplit.length - 1;
    const upTo =
      i === last ? pages : Math.min(pages - (last - i), Math.max(given + 1, Math.round(cumulative * pages)));
    const count = upTo - given;
    given = upTo;
    return {
      path: `pages-${i + 1}.img`,
      group: 'pages',
      size: count * PAGE_BYTES,
      segments: layoutPages(plan, rng, count),
    };
  });
  plan.files = [...pagesFiles, ...others];
  return plan;
}
