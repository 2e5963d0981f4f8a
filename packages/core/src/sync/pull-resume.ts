import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { StoreError } from '../errors.js';
import { type LocalRun, planLocalCopies, regularFiles } from './local-source.js';
import { type LocalState, readLocalRecord, statePath, writeLocalState } from './local-state.js';
import type { Manifest } from './manifest.js';
import { OLD_TREE, siblingPath, siblings } from './swap.js';

/*
 * A pull writes its tree in a hidden sibling of the destination (`.<name>.ckpt-pull-<pid>-<rand>`)
 * and records in the state directory what that tree is for: a local record of the destination
 * (store, model, generation, the manifest) named `<digest>.pull-<pid>-<rand>.by-<owner pid>`.
 * A pull that is killed, interrupted, or stopped by a store or network failure leaves both; the
 * next pull of the same destination from the same store takes them over (whatever generation
 * either pulls: chunks are named by their hash) and reads the chunks it needs from them, each
 * checked against its SHA-256 before it is used. Renaming the record to the new owner's pid is
 * the claim: one rename, so only one pull adopts a tree.
 */

/** A staging tree beside a destination: its path and its tag `pull-<pid>-<rand>`. */
export interface StagingTree {
  path: string;
  tag: Tag;
}

type Tag = `pull-${string}`;

/** A staging tree a pull took over, and the manifest it was being written from. */
export interface AdoptedTree extends StagingTree {
  manifest: Manifest;
}

/** Staging trees the pulls running in this process own (their own, and those they adopted). */
const inUse = new Set<string>();

const TAG = /^pull-(\d+)-[0-9a-f]{12}$/;
/** A staging tree's record (or the temp file of one being written): tag, then owner. */
const RECORD = /^(pull-\d+-[0-9a-f]{12})\.by-(\d+)(\.[0-9a-f]{8}\.tmp)?$/;

const recordKind = (tag: Tag, owner: number) => `${tag}.by-${owner}` as const;

/**
 * Creates this pull's staging tree beside `root` and records what it will hold, so that a pull
 * that stops before the swap leaves it for the next one. An unwritable state directory costs only
 * that.
 */
export async function createStaging(
  stateDir: string,
  root: string,
  holds: Pick<LocalState, 'store' | 'model' | 'generation' | 'manifest'>,
  encoded: Uint8Array | undefined,
): Promise<StagingTree> {
  const tag: Tag = `pull-${process.pid}-${randomBytes(6).toString('hex')}`;
  const tree = { tag, path: siblingPath(root, tag) };
  inUse.add(tree.path);
  try {
    await mkdir(tree.path);
  } catch (err) {
    inUse.delete(tree.path);
    throw err;
  }
  const record = { ...holds, durable: false, stamps: {} };
  await writeLocalState(stateDir, root, record, encoded, recordKind(tag, process.pid)).catch(() => undefined);
  return tree;
}

/**
 * Takes over every staging tree of `root` that no running pull owns and whose record says it was
 * written from `store`: the trees returned are this pull's until {@link releaseTrees}. Those of
 * another store, or whose record cannot be read, are removed.
 */
export async function adoptStagingTrees(
  stateDir: string,
  root: string,
  store: string,
): Promise<AdoptedTree[]> {
  const adopted: AdoptedTree[] = [];
  for (const { tag, tree, owners } of await stagingState(stateDir, root)) {
    if (!tree || owners.length === 0 || inUse.has(tree) || owners.some((o) => !free(o, tree))) continue;
    inUse.add(tree); // before the first await: no other pull of this process claims it meanwhile
    const mine = statePath(stateDir, root, recordKind(tag, process.pid));
    const claimed = await rename(statePath(stateDir, root, recordKind(tag, owners[0]!)), mine).then(
      () => true,
      () => false, // another process claimed it first
    );
    if (!claimed) {
      inUse.delete(tree);
      continue;
    }
    for (const other of owners.slice(1))
      await rm(statePath(stateDir, root, recordKind(tag, other)), { force: true });
    const record = await readLocalRecord(stateDir, root, recordKind(tag, process.pid));
    if (record?.store === store) adopted.push({ tag, path: tree, manifest: record.manifest });
    else {
      await removeTrees(stateDir, root, [{ tag, path: tree }]);
      inUse.delete(tree);
    }
  }
  return adopted;
}

/** Removes staging trees this pull owns, and their records. */
export async function removeTrees(stateDir: string, root: string, trees: StagingTree[]): Promise<void> {
  for (const tree of trees) {
    await rm(tree.path, { recursive: true, force: true });
    await removeRecord(stateDir, root, tree);
  }
}

/** Removes the record of a staging tree this pull owns (once the tree is swapped in or gone). */
export function removeRecord(stateDir: string, root: string, tree: StagingTree): Promise<void> {
  return rm(statePath(stateDir, root, recordKind(tree.tag, process.pid)), { force: true });
}

/** Ends this process's ownership of `trees`: what is left of them may be adopted by the next pull. */
export function releaseTrees(trees: StagingTree[]): void {
  for (const tree of trees) inUse.delete(tree.path);
}

/**
 * True when a pull that failed with `err` keeps its staging tree for the next one: it was aborted
 * (Ctrl-C, a caller's signal) or the store gave up on an error it calls retryable (the network,
 * a throttling service). Any other failure (`Integrity`, no space left, a refused destination,
 * permissions, a missing generation) removes it: the next attempt would not succeed the same way,
 * or the space is wanted back.
 */
export function keptForResume(err: unknown): boolean {
  return StoreError.is(err, 'Aborted') || (StoreError.is(err) && err.retryable);
}

/**
 * Removes what dead pulls left beside `root` that no pull can resume: old trees of finished swaps,
 * staging trees without a record whose process is gone (or, without a process id, older than an
 * hour), and records whose tree is gone. Staging trees with a record wait for the next pull
 * that has work to do ({@link adoptStagingTrees}).
 */
export async function removeLeftovers(stateDir: string, root: string): Promise<void> {
  for (const { rest, full } of await siblings(root)) {
    if (OLD_TREE.test(rest)) await rm(full, { recursive: true, force: true });
    else if (/^pull-[0-9a-f]{12}$/.test(rest)) {
      const st = await lstat(full).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 3600_000) await rm(full, { recursive: true, force: true });
    }
  }
  for (const { tag, tree, owners, files } of await stagingState(stateDir, root)) {
    const pid = Number(TAG.exec(tag)![1]);
    const unresumable = tree
      ? owners.length === 0 && free(pid, tree)
      : owners.every((o) => free(o, siblingPath(root, tag)));
    if (!unresumable) continue;
    if (tree) await rm(tree, { recursive: true, force: true });
    for (const file of files) await rm(file, { force: true });
  }
}

/** Each staging tag of `root`: its tree (when it exists), the owners its records name, and their files. */
async function stagingState(
  stateDir: string,
  root: string,
): Promise<{ tag: Tag; tree?: string; owners: number[]; files: string[] }[]> {
  const byTag = new Map<Tag, { tag: Tag; tree?: string; owners: number[]; files: string[] }>();
  const entry = (tag: Tag) => {
    const found = byTag.get(tag) ?? { tag, owners: [], files: [] };
    byTag.set(tag, found);
    return found;
  };
  for (const { rest, full } of await siblings(root)) if (TAG.test(rest)) entry(rest as Tag).tree = full;
  const any = statePath(stateDir, root, 'pull-');
  const prefix = path.basename(any).slice(0, -'pull-'.length);
  const names = await readdir(path.dirname(any)).catch(() => [] as string[]);
  for (const name of names) {
    const match = name.startsWith(prefix) ? RECORD.exec(name.slice(prefix.length)) : null;
    if (!match) continue;
    const found = entry(match[1] as Tag);
    found.files.push(path.join(path.dirname(any), name));
    if (!match[3]) found.owners.push(Number(match[2]));
  }
  return [...byTag.values()];
}

/** True when no running pull owns `tree` through process `pid`. */
function free(pid: number, tree: string): boolean {
  return pid === process.pid ? !inUse.has(tree) : !processAlive(pid);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The chunks a pull reads from the trees it adopted: runs planned like those of the current
 * directory (`planned`: chunks other sources read already, to which these are added), each file's
 * runs last first. Once a run is copied, its file is cut short behind it (unless the file is also
 * linked elsewhere: a staging tree's file may be a hard link to one of the current directory), so
 * the space resumed chunks take is handed back as they are copied, not at the end.
 */
export class ResumedChunks {
  readonly runs: LocalRun[] = [];
  /** Chunks planned from the adopted trees. */
  readonly indices = new Set<number>();
  /** Bytes handed back as the runs are copied. */
  freed = 0;
  readonly #cuts = new Map<LocalRun, { file: FileCut; at: number }>();

  static async plan(
    trees: AdoptedTree[],
    wanted: (hash: string) => number | undefined,
    planned: Set<number>,
  ): Promise<ResumedChunks> {
    const out = new ResumedChunks();
    for (const tree of trees) {
      // a file its owner may not read (a pull sets each file's mode once it is complete) is left
      const files = await regularFiles(tree.path, tree.manifest, (_, st) => (st.mode & 0o400n) !== 0n);
      const runs = planLocalCopies(files.values(), tree.manifest, wanted, planned);
      const links = new Map([...files.values()].map((f) => [f.abs, f.links]));
      // runs come file by file, in file order
      for (let from = 0; from < runs.length; ) {
        let to = from + 1;
        while (to < runs.length && runs[to]!.abs === runs[from]!.abs) to++;
        const mine = runs.slice(from, to).reverse();
        const file = new FileCut(mine[0]!.abs, mine.length);
        for (const [at, run] of mine.entries()) {
          out.runs.push(run);
          for (const chunk of run.chunks) out.indices.add(chunk.index);
          if (links.get(run.abs) !== 1) continue;
          out.#cuts.set(run, { file, at });
          out.freed += run.chunks.reduce((sum, c) => sum + c.length, 0);
        }
        from = to;
      }
    }
    return out;
  }

  /** Call once `run` is copied: its file is cut short behind the runs copied so far. */
  readonly copied = async (run: LocalRun): Promise<void> => {
    const cut = this.#cuts.get(run);
    if (cut) await cut.file.done(cut.at, run.chunks[0]!.offset);
  };
}

/**
 * A file of an adopted tree whose runs are copied last first: once runs `0..k` (from the end) are
 * all copied, its length is cut to where run `k` starts. Only a file with one link is cut.
 */
class FileCut {
  readonly #done: (number | undefined)[];
  #next = 0;
  #cutting: Promise<void> = Promise.resolve();

  constructor(
    readonly abs: string,
    runs: number,
  ) {
    this.#done = new Array(runs);
  }

  done(at: number, offset: number): Promise<void> {
    this.#done[at] = offset;
    let length: number | undefined;
    while (this.#done[this.#next] !== undefined) length = this.#done[this.#next++];
    if (length !== undefined) {
      const to = length;
      this.#cutting = this.#cutting.then(() => truncateUnlinked(this.abs, to));
    }
    return this.#cutting;
  }
}

/** Cuts `file` to `length` when it is a regular file with one link; a failure only costs the space. */
async function truncateUnlinked(file: string, length: number): Promise<void> {
  const handle = await open(file, constants.O_WRONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(
    () => undefined,
  );
  if (!handle) return;
  try {
    const st = await handle.stat();
    if (st.isFile() && st.nlink === 1 && st.size > length) await handle.truncate(length);
  } catch {
    // the space comes back when the tree is removed
  } finally {
    await handle.close();
  }
}
