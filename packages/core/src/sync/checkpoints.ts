import pLimit from 'p-limit';
import { CacheWriter } from '../cache/cache-writer.js';
import { ChunkCache, type ChunkCacheOptions } from '../cache/chunk-cache.js';
import { EncryptedStore } from '../crypto/encrypted-store.js';
import { userKey } from '../crypto/key-hierarchy.js';
import { newStoreEncryption, openEncryption } from '../crypto/store-encryption.js';
import { StoreError } from '../errors.js';
import type { ObjectStore } from '../store.js';
import { type OperationFigures, traced } from '../telemetry.js';
import { type ChunkingOptions, DEFAULT_CHUNKING, FileWorkers } from './chunking/index.js';
import { deleteCheckpoint } from './delete.js';
import type { EngineContext } from './engine-context.js';
import { collectGarbage } from './gc.js';
import { legacyExists, legacyObjects } from './legacy.js';
import { listFiles } from './list-files.js';
import { defaultStateDir } from './local-state.js';
import { validateGeneration, validateModel } from './names.js';
import { pull } from './pull.js';
import { push } from './push.js';
import { RENEW_MS } from './push-lease.js';
import { createStoreRecord, readStoreRecord, type StoreRecord, sameChunking } from './store-record.js';
import {
  generationInfo,
  type ListedModel,
  listAllModels,
  listedSummary,
  listGenerations,
  listModel,
  readManifestLead,
} from './stored-generations.js';
import type {
  CallOptions,
  DeleteOptions,
  DeleteResult,
  GcOptions,
  GcResult,
  GenerationFiles,
  GenerationInfo,
  ModelInfo,
  PullOptions,
  PullResult,
  PushOptions,
  PushResult,
  VerifyResult,
} from './types.js';
import { verify } from './verify.js';

export interface CheckpointsOptions {
  /** Parallel store requests. Default: the store's `preferredConcurrency`. */
  concurrency?: number;
  /** See `GcOptions.grace`. Default 6 h. */
  grace?: number;
  /** Chunking worker threads. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Target size of pack objects. Default 8 MiB. */
  packSize?: number;
  /**
   * Bytes of file data held in memory at once. A push gives half to the file workers' read buffers
   * (the 4 MiB segments in flight and the one being packed), half to packs (the one filling and
   * those whose body an upload still holds); a pull or verify keeps at most this many bytes of
   * 8 MiB reads in flight (and at most `concurrency`). Default 48 MiB. Memory does not grow with
   * file size.
   */
  memoryBudget?: number;
  /**
   * Chunking parameters for a store that has none recorded yet: its first push records them in
   * the store, and every push to it uses the recorded ones, whatever this says (chunks
   * deduplicate only when cut alike). Default: `minSize` 16 KiB, `avgSize` 64 KiB, `maxSize`
   * 256 KiB, `zeroRunMin` 64 KiB.
   */
  chunking?: ChunkingOptions;
  /**
   * Where the local records of checkpoint directories are kept (what a directory holds, so that
   * unchanged files are not read again and a pull knows the directory it replaces is ckpt's).
   * Default: `$CKPT_STATE_DIR`, else `$XDG_STATE_HOME/ckpt`, else `~/.local/state/ckpt`.
   */
  stateDir?: string;
  /**
   * The host's chunk cache, shared by every model, generation and store, and by every ckpt
   * process of the host: pulls read chunks from it before the store (each checked against its
   * hash), pulls put what they download in it, pushes what they upload (as far as the writes keep
   * up). Bounded by `maxBytes` (default 20 GiB), least recently used chunks evicted first.
   * Default: none.
   */
  cache?: ChunkCacheOptions;
  /**
   * How often a push renews its lease in the store, in ms. `gc` takes a push whose lease was not
   * renewed for four intervals for dead; a push that went three without renewing refuses to
   * commit. Default 30 s.
   */
  leaseRenewMs?: number;
  /**
   * Client-side encryption (off when absent): the user's key (a passphrase of at least 16 bytes,
   * or a key file's bytes; a last newline is dropped). A store's first push makes it encrypted
   * for good: packs and manifests are stored encrypted (AES-256-GCM) under a random data key
   * that the store's record keeps wrapped by this key. An encrypted store is never opened
   * without its key, nor a plain store with one: either fails with a `StoreError` of operation
   * `'encryption key'`. See ARCHITECTURE.md (Encryption) for the key hierarchy and rotation.
   */
  encryption?: { key: string | Uint8Array };
}

export const DEFAULT_GRACE_MS = 6 * 3600_000;

/**
 * The default pack size, and the most one ranged read of a pull or verify spans: a pack of the
 * default size is read in one request, since every request costs the service a fixed amount of
 * work (and is billed) whatever its size.
 */
const PACK_BYTES = 8 * 1024 * 1024;

/**
 * Checkpoint directories in an object store: push a directory as a new generation of a model,
 * pull one back, and manage what is stored. See ARCHITECTURE.md for the format and guarantees.
 *
 * @example
 * ```ts
 * const checkpoints = new Checkpoints(await openStore('s3://bucket/ckpt'));
 * const pushed = await checkpoints.push('llama-8b', '/var/lib/llmux/ckpt/llama-8b');
 * await checkpoints.pull('llama-8b', '/var/lib/llmux/ckpt/llama-8b'); // on another host
 * await checkpoints.close();
 * ```
 */
export class Checkpoints {
  private readonly ctx: EngineContext;
  private pool: FileWorkers | undefined;
  /** Pools made for other chunking parameters before the store's record was known; closed by close(). */
  private readonly retiredPools: FileWorkers[] = [];
  /** The store's record, read once (see `open`); undefined for a store without one. */
  private record: Promise<StoreRecord | undefined> | undefined;
  /** The user's key and the layer that encrypts with the data key it unwraps; undefined without encryption. */
  private readonly encryption: { key: Buffer; layer: EncryptedStore } | undefined;
  /** The thread that writes the chunk cache's entries, made when first needed. */
  private cacheWriter: CacheWriter | undefined;

  constructor(
    readonly store: ObjectStore,
    options: CheckpointsOptions = {},
  ) {
    this.encryption = options.encryption && {
      key: userKey(options.encryption.key, 'encryption.key'),
      layer: new EncryptedStore(store, () => this.ctx.workers()),
    };
    this.ctx = {
      store: this.encryption?.layer ?? store,
      concurrency: options.concurrency ?? store.capabilities.preferredConcurrency,
      grace: options.grace ?? DEFAULT_GRACE_MS,
      packSize: options.packSize ?? PACK_BYTES,
      readSize: PACK_BYTES,
      memoryBudget: options.memoryBudget ?? 48 * 1024 * 1024,
      chunking: options.chunking ?? DEFAULT_CHUNKING,
      stateDir: options.stateDir ?? defaultStateDir(),
      summaryKeys: !this.encryption,
      leaseRenewMs: options.leaseRenewMs ?? RENEW_MS,
      ...(options.cache ? { cache: new ChunkCache(options.cache) } : {}),
      open: (signal, purpose) => this.open(signal, purpose),
      workers: () => {
        this.pool ??= new FileWorkers({ threads: options.threads, chunking: this.ctx.chunking });
        return this.pool;
      },
      cacheWriter: () => {
        this.cacheWriter ??= new CacheWriter();
        return this.cacheWriter;
      },
    };
  }

  /** Pushes `dir` as a new generation of `model`; visible only once complete. */
  push(model: string, dir: string, options?: PushOptions): Promise<PushResult> {
    // it opens the store itself, once it has checked its arguments and scanned the directory; with
    // a key, the record is read meanwhile, so that the key's derivation overlaps the scan
    if (this.encryption && !this.record) this.record = this.once(this.readRecord(options?.signal));
    this.record?.catch(() => {}); // a failed early read is read again by `open`
    return traced(
      'push',
      model,
      () => this.keyed(() => this.withStoreStats(() => push(this.ctx, model, dir, options))),
      transferFigures,
    );
  }

  /** Makes `dir` hold exactly a generation of `model` (default: the latest), or fails leaving it as it was. */
  pull(model: string, dir: string, options?: PullOptions): Promise<PullResult> {
    return traced(
      'pull',
      model,
      () =>
        this.keyed(() =>
          this.withStoreStats(async () => {
            const ctx = await this.open(options?.signal);
            // its manifest waits for the key's derivation: the threads that will decrypt and
            // hash its reads start meanwhile
            if (this.encryption) ctx.workers().warm();
            return pull(ctx, model, dir, options);
          }),
        ),
      transferFigures,
    );
  }

  /**
   * True only when `model` has a committed generation whose manifest is intact (or a llmux 0.7
   * checkpoint exists): a push commits a generation only once all its data is stored, so it is
   * complete; `verify` reads the data back. Costs one listing of the model's generations and one
   * read of the latest manifest's first bytes (see `readManifestLead`), whatever its size.
   */
  async exists(model: string, options: { signal?: AbortSignal } = {}): Promise<boolean> {
    return this.keyed(async () => {
      validateModel(model);
      await this.open(options.signal);
      const generations = await listGenerations(this.ctx.store, model, options.signal);
      const latest = generations.at(-1);
      if (latest === undefined) return legacyExists(this.ctx.store, model, options.signal);
      return readManifestLead(this.ctx.store, model, latest, options.signal).then(
        () => true,
        (err) => {
          if (StoreError.is(err, 'Integrity', 'NotFound')) return false;
          throw err;
        },
      );
    });
  }

  /**
   * Every model with its generation count and latest generation: one listing of every
   * generation, and for each latest generation without a summary key (summary-keys.ts) one read
   * of its manifest's first bytes (`concurrency` at a time).
   */
  async list(options: { signal?: AbortSignal } = {}): Promise<ModelInfo[]> {
    return this.keyed(async () => {
      await this.open(options.signal);
      const limit = pLimit(this.ctx.concurrency);
      const models = [...(await listAllModels(this.ctx.store, options.signal))].filter(
        ([, listed]) => listed.generations.length,
      );
      return Promise.all(
        models.map(([model, listed]) =>
          limit(async () => ({
            model,
            generations: listed.generations.length,
            latest: await this.info(model, listed, listed.generations.at(-1)!, options.signal),
          })),
        ),
      );
    });
  }

  /** The generations of `model`, oldest first (a llmux 0.7 checkpoint appears as generation `legacy`). */
  async generations(model: string, options: { signal?: AbortSignal } = {}): Promise<GenerationInfo[]> {
    return this.keyed(async () => {
      validateModel(model);
      await this.open(options.signal);
      const listed = await listModel(this.ctx.store, model, options.signal);
      const limit = pLimit(this.ctx.concurrency);
      const out = await Promise.all(
        listed.generations.map((id) => limit(() => this.info(model, listed, id, options.signal))),
      );
      const legacy = await legacyObjects(this.ctx.store, model, options.signal);
      if (legacy.length) {
        const bytes = legacy.reduce((sum, o) => sum + o.size, 0);
        const createdAt = new Date(Math.max(...legacy.map((o) => o.lastModified.getTime())));
        out.unshift({
          model,
          generation: 'legacy',
          createdAt,
          files: legacy.length,
          bytes,
          storedBytes: bytes,
          addedBytes: bytes,
          labels: {},
          legacy: true,
        });
      }
      if (out.length === 0)
        throw new StoreError('NotFound', 'no checkpoint of this model in the store', {
          operation: 'list',
          key: model,
        });
      return out;
    });
  }

  /** The files, folders and links of a generation (default: the latest), from its manifest. */
  async files(
    model: string,
    options?: { generation?: string; signal?: AbortSignal },
  ): Promise<GenerationFiles> {
    return this.keyed(async () => listFiles(await this.open(options?.signal), model, options));
  }

  /** Re-reads every stored byte of a generation (default: the latest) and checks its hash. */
  verify(model: string, options?: CallOptions & { generation?: string }): Promise<VerifyResult> {
    return traced(
      'verify',
      model,
      () => this.keyed(async () => verify(await this.open(options?.signal), model, options)),
      (r) => ({
        generation: r.generation,
        bytes: r.bytes,
      }),
    );
  }

  /**
   * Removes one generation, or every generation of the model with `all: true` (one of the two is
   * required). Data is freed by `gc` after the grace period.
   */
  delete(model: string, options?: DeleteOptions): Promise<DeleteResult> {
    return traced(
      'delete',
      model,
      () =>
        this.keyed(async () => deleteCheckpoint((await this.open(options?.signal)).store, model, options)),
      () => ({}),
    );
  }

  /** Expires generations beyond `keep` and deletes data nothing needs any more (see gc.ts). */
  gc(options?: GcOptions): Promise<GcResult> {
    return traced(
      'gc',
      undefined,
      () => this.keyed(async () => collectGarbage(await this.open(options?.signal), options)),
      (r) => ({ bytesFreed: r.bytesFreed }),
    );
  }

  /** Stops the engine's threads. The store is the caller's to close. */
  async close(): Promise<void> {
    const pools = [this.pool, ...this.retiredPools.splice(0), this.cacheWriter];
    this.pool = undefined;
    this.cacheWriter = undefined;
    await Promise.all(pools.map((pool) => pool?.close()));
  }

  /**
   * What every operation does before it reads or writes anything else in the store: read the
   * store's record (once per instance), refuse a store of a newer format, and take the store's
   * chunking parameters (`EngineContext.open`). A push first creates the store where the backend
   * can (a filesystem store's root) and gives a store without a record one.
   */
  private async open(signal: AbortSignal | undefined, purpose?: 'push'): Promise<EngineContext> {
    const { store } = this.ctx;
    if (purpose === 'push') await store.ensureExists?.({ signal });
    this.record ??= this.once(this.readRecord(signal));
    let record = await this.record.catch((err: unknown) => {
      // a push's early read (see `push`) may have come before `ensureExists` made the store
      if (purpose !== 'push' || !StoreError.is(err, 'InvalidArgument', 'NotFound')) throw err;
      this.record ??= this.once(this.readRecord(signal));
      return this.record;
    });
    if (!record && purpose === 'push') {
      this.record = this.once(this.createRecord(signal));
      record = await this.record;
    }
    if (record && !sameChunking(record.chunking, this.ctx.chunking)) {
      this.ctx.chunking = record.chunking;
      if (this.pool) this.retiredPools.push(this.pool);
      this.pool = undefined;
    }
    return this.ctx;
  }

  /** The store's record, checked against this instance's key (store-encryption.ts). */
  private async readRecord(signal: AbortSignal | undefined): Promise<StoreRecord | undefined> {
    const record = await readStoreRecord(this.ctx.store, signal);
    await openEncryption(this.store, record, this.encryption?.key, this.encryption?.layer, signal);
    return record;
  }

  /** The record of a store that had none: encrypted when this instance has a key (unless another push was first). */
  private async createRecord(signal: AbortSignal | undefined): Promise<StoreRecord> {
    const { encryption } = this;
    const params =
      encryption && (await newStoreEncryption(this.store, encryption.key, encryption.layer, signal));
    const record = await createStoreRecord(this.ctx.store, this.ctx.chunking, signal, params);
    if (record.encryption !== params)
      await openEncryption(this.store, record, encryption?.key, encryption?.layer, signal);
    return record;
  }

  /**
   * `work`'s outcome once the data key it may have started unwrapping (`open`) is there: a key
   * that does not open the store fails the operation with the key's error, whatever `work` found
   * meanwhile (a listing runs while the key is derived; writes and sealed reads wait for it).
   */
  private async keyed<T>(work: () => Promise<T>): Promise<T> {
    const [outcome] = await Promise.allSettled([work()]);
    try {
      await this.encryption?.layer.unlocked();
    } catch (err) {
      this.record = undefined; // the next operation reads the record and derives the key again
      throw err;
    }
    if (outcome.status === 'rejected') throw outcome.reason;
    return outcome.value;
  }

  /** `reading`, forgotten when it fails: the next operation reads the record again. */
  private once(reading: Promise<StoreRecord | undefined>): Promise<StoreRecord | undefined> {
    const kept = reading.catch((err: unknown) => {
      if (this.record === kept) this.record = undefined;
      throw err;
    });
    return kept;
  }

  /** The transfer's result with what the store met meanwhile (`throttled`, `inFlightLimit`), when it says. */
  private async withStoreStats<T extends PushResult | PullResult>(transfer: () => Promise<T>): Promise<T> {
    const before = this.ctx.store.stats?.();
    const result = await transfer();
    const after = this.ctx.store.stats?.();
    if (!before || !after) return result;
    return { ...result, throttled: after.throttled - before.throttled, inFlightLimit: after.inFlightLimit };
  }

  /**
   * What `ls` shows of a generation: what its summary key says, else read from its manifest's
   * lead (never the whole manifest in memory).
   */
  private async info(
    model: string,
    listed: ListedModel,
    generation: string,
    signal?: AbortSignal,
  ): Promise<GenerationInfo> {
    const summary = this.ctx.summaryKeys ? listedSummary(listed, generation) : undefined;
    if (summary) return summary;
    validateGeneration(generation);
    return generationInfo(await readManifestLead(this.ctx.store, model, generation, signal));
  }
}

function transferFigures(result: PushResult | PullResult): OperationFigures {
  const { generation, bytes, bytesTransferred, chunksNew, chunksReused, throttled, inFlightLimit } = result;
  return { generation, bytes, bytesTransferred, chunksNew, chunksReused, throttled, inFlightLimit };
}
