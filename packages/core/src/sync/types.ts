/** What a long call is doing right now. */
export type SyncPhase = 'scan' | 'upload' | 'download' | 'verify' | 'commit';

/** Reported often (at most every ~100 ms per phase) during push, pull and verify. */
export interface ProgressEvent {
  phase: SyncPhase;
  /** Bytes of checkpoint content handled so far in this phase (zero runs count as handled). */
  bytesDone: number;
  bytesTotal: number;
  filesDone: number;
  filesTotal: number;
}

export interface CallOptions {
  signal?: AbortSignal;
  onProgress?: (event: ProgressEvent) => void;
}

/** Counters every transfer returns. */
export interface TransferStats {
  model: string;
  generation: string;
  /** Regular files in the checkpoint. */
  files: number;
  /** Logical bytes of those files (zero runs included). */
  bytes: number;
  /** Bytes that crossed the wire to or from the store (pack data and manifests). */
  bytesTransferred: number;
  /** Distinct data chunks uploaded (push) or downloaded (pull). */
  chunksNew: number;
  /**
   * Distinct data chunks of the generation found already in the store (push) or in the local
   * directory (pull); `chunksNew + chunksReused` is the generation's number of distinct chunks.
   */
  chunksReused: number;
  /** Bytes of all-zero runs, never stored nor transferred. */
  zeroBytes: number;
  durationMs: number;
  /** `bytes / duration`, in bytes per second. */
  throughput: number;
  /**
   * Throttling answers the store got while the transfer ran (from every caller of the store).
   * Set when the store reports its stats (`ObjectStore.stats`: every store `openStore` opens).
   */
  throttled?: number;
  /** Requests the store let run at once when the transfer ended (`StoreStats.inFlightLimit`); set with `throttled`. */
  inFlightLimit?: number;
}

export interface PushOptions extends CallOptions {
  /**
   * Fail with `Conflict` instead of committing when the model's latest generation is no longer
   * this one at commit time (optimistic concurrency for a single writer per model). By default
   * concurrent pushes both commit and the later commit becomes the latest.
   */
  expectLatest?: string | null;
  /**
   * Other models whose latest generation's chunks this push may reuse (`['*']`: every model), e.g.
   * checkpoints of the same base weights under different names. By default only the model's own
   * latest generation is the deduplication base (one manifest read).
   */
  dedupWith?: string[];
  /** Labels stored in the manifest (host, node, reason…). Strings only. */
  labels?: Record<string, string>;
  /**
   * Read back every stored chunk this push could reuse (every chunk of its bases) and check its
   * SHA-256 before trusting it: a chunk that does not match is uploaded again from the directory,
   * so the new generation verifies even when the latest one's packs rotted or were replaced. Costs
   * a read of the bases' stored bytes. Without it a push trusts a stored chunk whose pack exists
   * and is long enough (one HEAD per pack).
   */
  repair?: boolean;
}

export interface PushResult extends TransferStats {
  /**
   * Bytes of packs that an earlier push of the directory to this store stored before it was
   * killed or failed, and that this generation references instead of uploading them again.
   */
  bytesResumed: number;
  /** Generation that was the latest when this push started (its chunks were reused), or null. */
  parent: string | null;
  /**
   * True when the files hold the same bytes and modes as `parent`. When their times and the
   * labels are the same too and every chunk of `parent` was intact, nothing was written and
   * `generation` is `parent`; otherwise a manifest (and the chunks that were not intact) was written.
   */
  unchanged: boolean;
  /** Generations committed by other writers while this push ran. */
  concurrent: string[];
  /**
   * Distinct chunks of `parent` found not intact in the store (their pack gone or shorter than
   * they need; with `repair`, bytes that do not match their hash). None was reused: those the
   * directory holds were uploaded again.
   */
  damagedChunks: number;
  /**
   * Files of `parent` that need a damaged chunk the directory does not hold (it changed since):
   * `parent` stays broken, and the new generation, which holds the directory as it is, does not
   * need those bytes.
   */
  unrepairedFiles: string[];
}

export interface PullOptions extends CallOptions {
  /** A generation id; default: the latest committed one. */
  generation?: string;
  /**
   * Replace the destination even when it holds files ckpt did not write (or that changed since
   * ckpt wrote them). Without it such a pull fails with `InvalidArgument`. The filesystem root,
   * the home directory and the current directory and its parents are refused regardless.
   */
  force?: boolean;
  /** Report what the pull would add, change and remove (`plan`) and change nothing. */
  dryRun?: boolean;
}

/** Paths a pull would add, replace and remove (relative to the destination). */
export interface PullPlan {
  add: string[];
  change: string[];
  remove: string[];
}

export interface PullResult extends TransferStats {
  /**
   * Of `chunksReused`, those read from the trees earlier pulls of this directory left when they
   * were killed, interrupted or stopped by a network failure (each checked against its hash).
   */
  chunksResumed: number;
  /**
   * Of `chunksReused`, those read from the host's other checkpoint directories (known by their
   * local records: other models and stores included), each checked against its hash.
   */
  chunksShared: number;
  /** Of `chunksReused`, those read from the host's chunk cache (`CheckpointsOptions.cache`), each checked against its hash. */
  chunksCached: number;
  /** True when the directory was already at this generation and nothing was written. */
  upToDate: boolean;
  /** True for a llmux 0.7 checkpoint (`<model>/images/<file>`): no hashes were available to check. */
  legacy: boolean;
  /** With `dryRun`: what the pull would do (nothing was written). */
  plan?: PullPlan;
}

export interface GenerationInfo {
  model: string;
  generation: string;
  createdAt: Date;
  files: number;
  bytes: number;
  /** Bytes of stored data the generation references (zero runs excluded). */
  storedBytes: number;
  /**
   * Of `storedBytes`, those the generation's push stored itself: what it added to the store, which
   * no earlier generation holds. Undefined for generations pushed before ckpt recorded it.
   */
  addedBytes?: number;
  labels: Record<string, string>;
  legacy: boolean;
}

/** One entry of a generation's tree, as `Checkpoints.files` lists it. */
export type FileInfo =
  | { path: string; type: 'file'; mode: number; size: number; mtime: Date }
  | { path: string; type: 'dir'; mode: number; mtime: Date }
  | { path: string; type: 'symlink'; target: string };

/** What `Checkpoints.files` answers: the generation it read, and its tree in walk order. */
export interface GenerationFiles {
  model: string;
  generation: string;
  files: FileInfo[];
}

export interface ModelInfo {
  model: string;
  generations: number;
  latest: GenerationInfo;
}

export interface VerifyResult {
  model: string;
  generation: string;
  ok: boolean;
  files: number;
  bytes: number;
  chunksChecked: number;
  /** Each problem names the file(s) it breaks. */
  problems: { path: string; problem: string }[];
  durationMs: number;
}

export interface DeleteOptions {
  /** Remove only this generation. */
  generation?: string;
  /** Remove every generation of the model (required when no generation is named). */
  all?: boolean;
  /** Report the generations that would be removed and remove nothing. */
  dryRun?: boolean;
  signal?: AbortSignal;
}

export interface DeleteResult {
  model: string;
  /** Generations moved out of sight (their data is freed by `gc` after the grace period). */
  generations: string[];
}

export interface GcOptions extends CallOptions {
  /** Committed generations to keep per model (newest first). Default: all. */
  keep?: number;
  /**
   * Data younger than this (ms) is never deleted, nor data that a generation removed less than
   * this long ago referenced: pushes still in flight and readers of just-removed generations stay
   * safe. Default: the engine's grace (6 h).
   */
  grace?: number;
  /** Report what would be removed without removing it. */
  dryRun?: boolean;
  /** Required with `keep: 0`, which removes every generation of every model. */
  all?: boolean;
}

export interface GcResult {
  /** Generations moved out of sight because they exceeded `keep`. */
  expiredGenerations: string[];
  /** Removed-generation records older than the grace period, now deleted. */
  purgedGenerations: number;
  /** Pack objects deleted, and their bytes. */
  packsDeleted: number;
  bytesFreed: number;
  /** Packs still referenced, and unreferenced ones kept because they are younger than the grace. */
  packsLive: number;
  packsInGrace: number;
  /** Pushes in flight (their leases), whose data was kept. */
  pushesInFlight: number;
  /** What dead writers left that no key names (temp files, incomplete uploads), removed (`ObjectStore.removeAbandoned`). */
  abandonedRemoved: number;
  durationMs: number;
}
