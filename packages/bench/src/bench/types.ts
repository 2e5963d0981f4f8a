import type { MetricsSnapshot } from '@ckpt/core';

/** An S3 server's address and the key pair to sign with (MinIO's root user, random per server). */
export interface S3Server {
  endpoint: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

/**
 * A store the runner child opens: a folder for `FsStore`, a bucket on MinIO for `S3Store`, a
 * bucket on fake-gcs-server for `GcsStore` (no credentials: the emulator checks none), a container
 * on Azurite for `AzureStore` (its well-known development account's connection string).
 */
export type StoreSpec =
  | { kind: 'fs'; root: string }
  | ({ kind: 's3'; bucket: string } & S3Server)
  | { kind: 'gcs'; bucket: string; apiEndpoint: string; projectId: string }
  | { kind: 'azure'; container: string; connectionString: string };

/** Engine knobs passed through to `new Checkpoints(store, …)` (unset: the engine's defaults). */
export interface EngineKnobs {
  concurrency?: number;
  threads?: number;
  memoryBudget?: number;
  /** Client-side encryption (the encrypted chain's key). */
  encryption?: { key: string };
}

/** A parsed `pnpm bench` command line. */
export interface BenchArgs {
  backends: BackendKind[];
  sizeBytes: number;
  runs: number;
  quick: boolean;
  out: string;
  cache: CacheMode[];
  /** Sizes of the scaling workloads (full push and fresh pull only). */
  scalingBytes: number[];
  smallFiles: number;
  tools: boolean;
  sweep: boolean;
  /** Also run the engine's chain with client-side encryption on. */
  encryption: boolean;
  verify: boolean;
  seed: number;
  work: string;
  engine: EngineKnobs;
  updateDocs: boolean;
  /** Render this earlier results.json instead of measuring. */
  report?: string;
  help: boolean;
}

/** One operation for the runner child to perform (see runner-child.ts). */
export type OpSpec =
  | { op: 'push'; store: StoreSpec; model: string; dir: string; engine: EngineKnobs }
  | { op: 'pull'; store: StoreSpec; model: string; dir: string; generation?: string; engine: EngineKnobs }
  | { op: 'raw-put'; server: S3Server; bucket: string; key: string; dir: string }
  | { op: 'raw-get'; server: S3Server; bucket: string; key: string };

/** What the runner child prints (one JSON line). */
export interface OpOutcome {
  /** Time of the operation itself, without process start-up. */
  opMs: number;
  /** CPU time of the operation, all threads of the child (`process.cpuUsage()`), in ms. */
  cpuUserMs: number;
  cpuSystemMs: number;
  /** The child's own peak RSS (`process.resourceUsage().maxRSS`), in bytes. */
  maxRssBytes: number;
  /** Store requests and bytes as counted by `withEvents` + `StoreMetrics` (or by the raw transfer). */
  metrics: Pick<MetricsSnapshot, 'requests' | 'errors' | 'bytesIn' | 'bytesOut'>;
  /** The engine's result (push/pull) or a raw transfer's summary. */
  result: Record<string, unknown>;
}

/** What a measured operation is, in the benchmark's vocabulary. */
export type Scenario =
  | 'full-push'
  | 'unchanged-push'
  | 'next-push'
  | 'fresh-pull'
  | 'pull-over-previous'
  | 'sweep-push'
  | 'raw-put'
  | 'raw-get';

/** Who performed it. */
export type Tool =
  | 'ckpt'
  | 'ckpt (encrypted)'
  | 'cp -r'
  | 'cp -r + fsync'
  | 'aws s3 sync'
  | 'rclone copy'
  | 's5cmd sync'
  | 'restic'
  | 'azcopy copy'
  | 'sdk';

/** Backends the benchmark knows: the filesystem, MinIO, fake-gcs-server and Azurite. */
export type BackendKind = 'fs' | 's3' | 'gcs' | 'azure';

/** Page-cache state before each measured operation. */
export type CacheMode = 'warm' | 'cold';

/** One run of one operation. */
export interface Measurement {
  backend: BackendKind;
  cache: CacheMode;
  scenario: Scenario;
  tool: Tool;
  /** `main` (the `--size` workload), `rewrite-<p>%`, `<size>` for scaling, `small-files`. */
  workload: string;
  run: number;
  ok: boolean;
  error?: string;
  /** Process start to exit, as the user would wait for it. */
  wallMs: number;
  /** The operation alone (ckpt and the raw SDK transfer only). */
  opMs?: number;
  /** CPU time of the operation alone, user and kernel, all its threads (ckpt and the raw SDK transfer only). */
  cpuUserMs?: number;
  cpuSystemMs?: number;
  /** Peak RSS of the process tree: sampled sum over the tree, or a member's own high-water mark. */
  peakRssBytes: number;
  /** Bytes of the checkpoint directory the operation moves. */
  logicalBytes: number;
  requests?: number;
  /** Bytes sent to the store (put payloads). */
  bytesSent?: number;
  /** Bytes received from the store (get payloads). */
  bytesReceived?: number;
  /**
   * Bytes newly stored: a push's new packs plus its manifest; for restic, how much its repository
   * grew (restic keeps every snapshot, as ckpt keeps every generation).
   */
  bytesStored?: number;
  /** Truly new bytes of the pushed version (the workload oracle), for next-version pushes. */
  oracleBytes?: number;
  /** CPU time (user + system) the store's server process spent during the operation. */
  serverCpuMs?: number;
}

/** The runs of one (backend, cache, scenario, tool, workload), aggregated. */
export interface Row {
  backend: BackendKind;
  cache: CacheMode;
  scenario: Scenario;
  tool: Tool;
  workload: string;
  runs: number;
  failures: number;
  medianWallMs: number;
  minWallMs: number;
  maxWallMs: number;
  medianOpMs?: number;
  medianCpuUserMs?: number;
  medianCpuSystemMs?: number;
  /** Highest peak RSS over the runs. */
  peakRssBytes: number;
  logicalBytes: number;
  requests?: number;
  bytesSent?: number;
  bytesReceived?: number;
  bytesStored?: number;
  oracleBytes?: number;
  /** Median over the runs of the server's CPU time over the wall time: cores it kept busy (2 = both here). */
  medianServerCores?: number;
}

/** A comparison against a target of issue 6 (fs, S3), 21 (Azure) or 22 (GCS). */
export interface Ratio {
  backend: BackendKind;
  cache: CacheMode;
  /** What is compared, e.g. `full push / cp -r`. */
  label: string;
  value: number;
  /** `ratio` (shown as `0.42×`), `MiB` or `s` (seconds). */
  unit: 'ratio' | 'MiB' | 's';
  /** Human-readable target, e.g. `≤ 2.5`. */
  target?: string;
  pass?: boolean;
}

/** The machine a run was measured on. */
export interface MachineInfo {
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  disk: string;
  node: string;
  kernel: string;
  loadAverageStart: number[];
  loadAverageEnd?: number[];
  dropCaches: boolean;
  tools: Record<string, string>;
  /**
   * The engine build measured (a snapshot taken at the start, see engine-snapshot.ts), and
   * whether the checkout's build changed during the run (which the snapshot kept out).
   */
  engine?: { commit: string; dirty: boolean; hash: string; rebuiltDuringRun?: boolean };
}

/** A workload the run generated. */
export interface WorkloadInfo {
  name: string;
  files: number;
  bytes: number;
  zeroBytes: number;
  /** Oracle bytes of its next version (for next-version pushes). */
  oracleBytes?: number;
  rewriteFraction?: number;
}

/** Everything one benchmark run produced (written as JSON). */
export interface BenchResults {
  schema: 'ckpt-bench/1';
  date: string;
  args: BenchArgs;
  machine: MachineInfo;
  workloads: WorkloadInfo[];
  measurements: Measurement[];
  rows: Row[];
  ratios: Ratio[];
  durationMs: number;
}
