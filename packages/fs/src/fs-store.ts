import type { BigIntStats } from 'node:fs';
import {
  constants,
  type FileHandle,
  lstat,
  mkdir,
  open,
  stat as statFollowing,
  unlink,
} from 'node:fs/promises';
import path from 'node:path';
import {
  type Backend,
  type BackendGetOptions,
  type BackendPutOptions,
  BackendStore,
  type Capabilities,
  type GetResult,
  type ObjectMeta,
  type PutBody,
  type PutResult,
  StoreError,
  type StoreOptions,
} from '@ckpt/core';
import { errnoOf } from '@ckpt/core/backend';
import { discardTemp, sweepTemp, writeTemp } from './atomic-write.js';
import { commitTemp } from './commit.js';
import { ensureParents, parentSyncs, parentsAreFolders, pruneEmptyParents, syncFolder } from './folders.js';
import { sweepLocks, withKeyLock } from './lock.js';
import { INTERNAL_DIR, keySegments, segmentsPath } from './paths.js';
import { clipRange, rangeStream } from './read-stream.js';
import { objectMeta, versionOf } from './version.js';
import { walkObjects } from './walk.js';

/** Options of {@link FsBackend}. */
export interface FsBackendOptions {
  /**
   * The folder the objects live in. Reads of a root that does not exist fail (`InvalidArgument`:
   * a mistyped path must not look like an empty store); `ensureExists` and the first write create
   * it. Relative paths resolve against the cwd.
   */
  root: string;
  /**
   * A key lock older than this is broken (a lock whose owner process on this host is gone is broken
   * after 1 s). Locks are held only to check and rename, never while data streams. Default 30 000.
   */
  staleLockMs?: number;
}

/** Temp files untouched for this long were left by a crashed writer. */
const TEMP_MAX_AGE_MS = 60 * 60 * 1000;
const OPEN_FOR_READ = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * A backend on a local (or mounted) filesystem: key `a/b/c` is the file `<root>/a/b/c`.
 *
 * - Atomic puts: the body streams into `<root>/.ckpt-fs/tmp/`, is fsynced, renamed over the key,
 *   and the folder is fsynced, as is the parent of each folder made for it. Readers see the old
 *   or the new file; a crash leaves a temp file that is swept an hour later, never a partial
 *   object.
 * - Conditional puts across processes: create-only uses `link` (fails atomically when the key
 *   exists); compare-and-swap checks the version and renames under a per-key lock file. Plain puts
 *   and deletes take the same lock, so every write of a key is linearizable.
 * - Versions are `inode.mtime-ns.size` (see `version.ts`), new on every put.
 * - A key cannot also be a folder (`keyIsAlsoPrefix: false`): putting `a/b` when `a` is an object,
 *   or `a` when `a/b` exists, fails with `InvalidArgument` (`AlreadyExists` only ever means that a
 *   create-only put found the key).
 * - No symlink is ever followed below the root: parents are checked with `lstat` and files opened
 *   with `O_NOFOLLOW`; a symlinked key or folder does not exist for reads and cannot be written
 *   through. Keys under `.ckpt-fs/` are refused.
 * - The root is the store: reading a root that does not exist is an error naming it, never an
 *   empty store. `ensureExists` (called by a push before it reads) and any put create it.
 * - No user metadata (`metadata: false`): a sidecar file could not be replaced atomically together
 *   with the object, and Node has no extended-attribute API. `options.metadata` is ignored.
 *
 * @example
 * ```ts
 * const store = new FsStore({ root: '/var/lib/ckpt' });
 * await store.put('llama/images/pages-1.img', createReadStream(file), { mode: 'create' });
 * ```
 */
export class FsBackend implements Backend {
  readonly name: string;
  readonly capabilities: Partial<Capabilities> = {
    conditionalCreate: true,
    conditionalReplace: true,
    rangedRead: true,
    maxObjectSize: Number.MAX_SAFE_INTEGER,
    metadata: false,
    keyIsAlsoPrefix: false,
    preferredConcurrency: 8,
  };
  /** The absolute root folder. */
  readonly root: string;
  private readonly tmpDir: string;
  private readonly lockDir: string;
  private readonly staleLockMs: number;
  private setup: Promise<void> | undefined;
  private lastSweep = 0;

  constructor(options: FsBackendOptions) {
    if (typeof options?.root !== 'string' || options.root === '') {
      throw new StoreError('InvalidArgument', 'root must be a non-empty path', {
        operation: 'FsStore',
        key: 'root',
      });
    }
    const staleLockMs = options.staleLockMs ?? 30_000;
    if (!Number.isFinite(staleLockMs) || staleLockMs <= 0) {
      throw new StoreError('InvalidArgument', 'staleLockMs must be a positive number', {
        operation: 'FsStore',
        key: 'staleLockMs',
      });
    }
    this.root = path.resolve(options.root);
    this.name = `file://${this.root}`;
    this.tmpDir = path.join(this.root, INTERNAL_DIR, 'tmp');
    this.lockDir = path.join(this.root, INTERNAL_DIR, 'locks');
    this.staleLockMs = staleLockMs;
  }

  async put(key: string, body: PutBody, options: BackendPutOptions): Promise<PutResult> {
    const segments = keySegments(key, 'put');
    await this.ready();
    const target = segmentsPath(this.root, segments);
    const makeParents = () => ensureParents(this.root, segments, key, 'put');
    await makeParents(); // fail before streaming gigabytes when the key cannot exist
    let stored = false;
    const temp = await writeTemp(this.tmpDir, body, {
      key,
      size: options.size,
      signal: options.signal,
      onWritten: options.onBodyReleased,
    }).catch(async (err) => {
      await pruneEmptyParents(this.root, segments);
      throw err;
    });
    try {
      const lock = { staleMs: this.staleLockMs, operation: 'put', key, signal: options.signal };
      const commit = { key, mode: options.mode, makeParents, signal: options.signal };
      const stat = await withKeyLock(this.lockDir, lock, () => commitTemp(temp, target, commit));
      stored = true;
      await Promise.all([syncFolder(path.dirname(target)), ...parentSyncs(this.root, segments)]);
      return { version: versionOf(stat), size: temp.size };
    } catch (err) {
      if (!stored) await pruneEmptyParents(this.root, segments);
      throw err;
    } finally {
      // once stored, the temp file has been renamed (or linked and removed): only its handle is left
      if (stored) await temp.handle.close().catch(() => {});
      else await discardTemp(temp);
    }
  }

  async get(key: string, options: BackendGetOptions): Promise<GetResult> {
    const segments = keySegments(key, 'get');
    const handle = await this.openObject(segments, key).catch(async (err) => {
      if (StoreError.is(err, 'NotFound')) await this.requireRoot('get', key);
      throw err;
    });
    try {
      const stat = await handle.stat({ bigint: true });
      if (!stat.isFile()) throw notFound('get', key);
      const range = clipRange(options.range ?? { offset: 0 }, Number(stat.size));
      const body = rangeStream(handle, range, { key, signal: options.signal, into: options.into });
      return { ...objectMeta(key, stat), body, range };
    } catch (err) {
      await handle.close().catch(() => {});
      throw err;
    }
  }

  async head(key: string): Promise<ObjectMeta> {
    const segments = keySegments(key, 'head');
    const found = await this.objectStat(segments);
    if (!found) {
      await this.requireRoot('head', key);
      throw notFound('head', key);
    }
    return objectMeta(key, found);
  }

  async *list(
    prefix: string,
    options: { startAfter?: string; signal?: AbortSignal },
  ): AsyncIterable<ObjectMeta> {
    await this.requireRoot('list', prefix);
    for await (const { key, stat } of walkObjects(this.root, prefix, options.startAfter)) {
      options.signal?.throwIfAborted();
      yield objectMeta(key, stat);
    }
  }

  async delete(key: string, options: { signal?: AbortSignal }): Promise<void> {
    const segments = keySegments(key, 'delete');
    // a missing key costs a few lstats and creates nothing (not even the root)
    if (!(await this.objectStat(segments))) return;
    await this.ready();
    const target = segmentsPath(this.root, segments);
    const lock = { staleMs: this.staleLockMs, operation: 'delete', key, signal: options.signal };
    const removed = await withKeyLock(this.lockDir, lock, async () => {
      // look again under the lock: only a regular file is an object (never unlink a folder or symlink)
      if (!(await this.objectStat(segments))) return false;
      try {
        await unlink(target);
        return true;
      } catch (err) {
        if (errnoOf(err) === 'ENOENT') return false;
        throw err;
      }
    });
    if (!removed) return;
    try {
      await syncFolder(path.dirname(target));
    } catch (err) {
      if (errnoOf(err) !== 'ENOENT') throw err;
    }
    await pruneEmptyParents(this.root, segments);
  }

  /** Creates the root (and the internal folders) when missing: a push calls it before it reads. */
  async ensureExists(): Promise<void> {
    await this.ready();
  }

  /**
   * Throws `InvalidArgument` naming the store when its root is missing or not a folder: a read of
   * `--store ~/typo` must fail, not answer "no such checkpoint". The root itself may be a symlink.
   */
  private async requireRoot(operation: string, key: string): Promise<void> {
    const found = await statFollowing(this.root).catch((err) => {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw err;
    });
    if (found?.isDirectory()) return;
    const why = found ? 'its root is not a folder' : 'no such folder; a push creates it';
    throw new StoreError('InvalidArgument', `the store ${this.name} does not exist (${why})`, {
      operation,
      key,
    });
  }

  /** Creates the internal folders once and sweeps what crashed writers left (again hourly). */
  private async ready(): Promise<void> {
    this.setup ??= this.prepare().catch((err) => {
      this.setup = undefined;
      throw err;
    });
    await this.setup;
    if (Date.now() - this.lastSweep > TEMP_MAX_AGE_MS) void this.sweep();
  }

  private async prepare(): Promise<void> {
    await mkdir(this.tmpDir, { recursive: true });
    await mkdir(this.lockDir, { recursive: true });
    for (const dir of [path.dirname(this.tmpDir), this.tmpDir, this.lockDir]) {
      if (!(await lstat(dir)).isDirectory()) {
        throw new StoreError('InvalidArgument', `${dir} must be a real folder, not a symlink`, {
          operation: 'open',
        });
      }
    }
    await this.sweep();
  }

  /** Removes temp files of puts whose writer died: untouched for `olderThanMs` (a live writer touches its file with every write). */
  async removeAbandoned(olderThanMs: number): Promise<{ removed: number; bytes: number }> {
    return sweepTemp(this.tmpDir, olderThanMs).catch((err) => {
      if (errnoOf(err) === 'ENOENT') return { removed: 0, bytes: 0 };
      throw err;
    });
  }

  private async sweep(): Promise<void> {
    this.lastSweep = Date.now();
    await sweepTemp(this.tmpDir, TEMP_MAX_AGE_MS).catch(() => {});
    await sweepLocks(this.lockDir, this.staleLockMs).catch(() => {});
  }

  /** Opens the key's file for reading without following any symlink; `NotFound` when it is no object. */
  private async openObject(segments: string[], key: string): Promise<FileHandle> {
    try {
      if (!(await parentsAreFolders(this.root, segments))) throw notFound('get', key);
      return await open(segmentsPath(this.root, segments), OPEN_FOR_READ);
    } catch (err) {
      // ELOOP: the key is a symlink, which is not an object
      if (['ENOENT', 'ENOTDIR', 'ELOOP'].includes(errnoOf(err) ?? '')) throw notFound('get', key);
      throw err;
    }
  }

  /** The stat of the key's regular file, or undefined when there is none (folder, symlink, nothing). */
  private async objectStat(segments: string[]): Promise<BigIntStats | undefined> {
    try {
      if (!(await parentsAreFolders(this.root, segments))) return undefined;
      const stat = await lstat(segmentsPath(this.root, segments), { bigint: true });
      return stat.isFile() ? stat : undefined;
    } catch (err) {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return undefined;
      throw err;
    }
  }
}

function notFound(operation: string, key: string): StoreError {
  return new StoreError('NotFound', 'no such key', { operation, key });
}

/** Options of {@link FsStore}: the backend's and the store's (retries). */
export type FsStoreOptions = FsBackendOptions & StoreOptions;

/** The store on an {@link FsBackend}: `new FsStore({ root })`. */
export class FsStore extends BackendStore {
  constructor(options: FsStoreOptions) {
    super(new FsBackend(options), options);
  }
}
