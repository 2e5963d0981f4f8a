import { type CheckpointPlan, fileKind, freshContent, ownedName, type PlannedFile } from './model.js';
import { newId, THREAD_FILE_PREFIX } from './names.js';
import { PAGE_BYTES } from './options.js';
import type { Rng, RngFor } from './rng.js';
import { sliceSegments } from './segments.js';

/** Every process and thread gets a new id (never one in use before): their files are renamed. */
function churnIds(next: CheckpointPlan, rng: Rng, files: PlannedFile[]): PlannedFile[] {
  const used = new Set(next.processes.flatMap((p) => p.tids));
  const renamed = new Map([...used].map((id) => [id, newId(rng, used)]));
  next.processes = next.processes.map((p) => ({
    pid: renamed.get(p.pid)!,
    tids: p.tids.map((t) => renamed.get(t)!),
  }));
  return files.map((f) => {
    if (!f.owner) return f;
    const owner = { ...f.owner, id: renamed.get(f.owner.id)! };
    return { ...f, owner, path: ownedName(owner.prefix, owner.id) };
  });
}

/** Some threads exit and as many start: their `core-<tid>.img` files vanish and appear. */
function churnThreads(next: CheckpointPlan, rng: Rng, files: PlannedFile[]) {
  const count = Math.round(next.config.smallChurnFraction * files.filter((f) => f.group === 'small').length);
  const mainThreads = new Set(next.processes.map((p) => p.pid));
  const exiting = new Set(
    rng.shuffle(next.processes.flatMap((p) => p.tids).filter((t) => !mainThreads.has(t))).slice(0, count),
  );
  const used = new Set(next.processes.flatMap((p) => p.tids));
  next.processes = next.processes.map((p) => ({ ...p, tids: p.tids.filter((t) => !exiting.has(t)) }));
  const sizes = files.filter((f) => f.owner?.prefix === THREAD_FILE_PREFIX).map((f) => f.size);
  const kept = files.filter((f) => !(f.owner?.prefix === THREAD_FILE_PREFIX && exiting.has(f.owner.id)));
  const added: PlannedFile[] = [];
  for (let i = 0; i < count && sizes.length > 0; i++) {
    const process = next.processes[rng.int(next.processes.length)]!;
    const tid = newId(rng, used);
    process.tids.push(tid);
    const size = sizes[rng.int(sizes.length)]!;
    const owner = { prefix: THREAD_FILE_PREFIX, id: tid };
    added.push({
      path: ownedName(owner.prefix, tid),
      group: 'small',
      size,
      segments: freshContent(next, 'text', size),
      owner,
    });
  }
  return { kept, added };
}

/** `files` in random order, split by `shares` (fractions, rounded) into consecutive groups. */
function splitRandomly<T>(rng: Rng, files: T[], shares: number[]): T[][] {
  const order = rng.shuffle([...files]);
  let from = 0;
  let cumulative = 0;
  return shares.map((share) => {
    cumulative += share;
    const to = Math.round(cumulative * order.length);
    const part = order.slice(from, to);
    from = to;
    return part;
  });
}

/** A rewritten file: new bytes throughout, its size changed by a factor within `[low, high)`. */
function rewrite(next: CheckpointPlan, rng: Rng, f: PlannedFile, low: number, high: number): PlannedFile {
  const size = Math.max(1, Math.round(f.size * rng.between(low, high)));
  return { ...f, size, segments: freshContent(next, fileKind(f), size) };
}

/** A file whose head (whole pages) is kept and whose tail is new and of a different length. */
function changeTail(next: CheckpointPlan, rng: Rng, f: PlannedFile): PlannedFile {
  const keep = Math.floor(Math.floor(f.size / PAGE_BYTES) * rng.between(0.25, 0.9));
  const tail = Math.max(1, Math.round((f.size - keep * PAGE_BYTES) * rng.between(0.75, 1.33)));
  const segments = [...sliceSegments(f.segments, 0, keep), ...freshContent(next, fileKind(f), tail)];
  return { ...f, size: keep * PAGE_BYTES + tail, segments };
}

/**
 * The non-pages files of version n + 1: optional id churn, thread churn, small files rewritten,
 * medium and rootfs files kept, changed at the tail or replaced. Empty files stay empty.
 */
export function mutateOtherFiles(next: CheckpointPlan, rngFor: RngFor, files: PlannedFile[]): PlannedFile[] {
  const c = next.config;
  const renamed = c.pidChurn ? churnIds(next, rngFor('pid-churn'), files) : files;
  const { kept, added } = churnThreads(next, rngFor('thread-churn'), renamed);
  const rng = rngFor('rewrite-files');
  const changed = new Map<PlannedFile, PlannedFile>();
  const small = kept.filter((f) => f.group === 'small' && f.size > 0);
  const [rewritten = []] = splitRandomly(rng, small, [c.smallRewriteFraction]);
  for (const f of rewritten) changed.set(f, rewrite(next, rng, f, 0.8, 1.25));
  const medium = kept.filter((f) => (f.group === 'medium' || f.group === 'rootfs') && f.size > 0);
  const { same, tail, replaced } = c.mediumChange;
  const [, tails = [], replacements = []] = splitRandomly(rng, medium, [same, tail, replaced]);
  for (const f of tails) changed.set(f, changeTail(next, rng, f));
  for (const f of replacements) changed.set(f, rewrite(next, rng, f, 0.5, 2));
  return [...kept.map((f) => changed.get(f) ?? f), ...added];
}
