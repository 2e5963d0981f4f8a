import { execFile } from 'node:child_process';
import { access, constants, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findBinary, toolsBinDir } from '@ckpt/test-servers';
import type { S3Server, Tool } from './types.js';

const run = promisify(execFile);

/** The Debian aws-cli 2 (the `aws` first on PATH may be another, older install). */
export const AWS_BIN = '/usr/bin/aws';
/** rclone from Debian. */
export const RCLONE_BIN = 'rclone';

/** A command line ready for `runSampled`. */
export interface Command {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
}

/** A reference tool: copies a local directory to a target and back, as a user would. */
export interface ReferenceTool {
  name: Exclude<Tool, 'ckpt' | 'sdk'>;
  /** Only whole copies make sense (no incremental mode): `cp -r`. */
  wholeCopyOnly: boolean;
  /**
   * The target keeps every version pushed (restic's snapshots, as ckpt's generations): a push's
   * stored bytes are how much the target grew. Sync tools overwrite, so theirs are not counted.
   */
  keepsHistory?: boolean;
  /** Run once on a new, empty target before anything is measured (`restic init`). */
  prepare?(target: string): Command;
  put(dir: string, target: string): Command;
  /** Absent for a put-only reference. */
  get?(target: string, dir: string): Command;
}

/** Prefixes of variables that would point a tool at a real cloud, or break it (AWS_CA_BUNDLE for rclone). */
const CLOUD_VARIABLES = /^(AWS_|RCLONE_|AZURE_|AZCOPY_|GOOGLE_|STORAGE_EMULATOR_HOST$)/;

/** The environment without {@link CLOUD_VARIABLES}, plus `extra`. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (CLOUD_VARIABLES.test(name)) delete env[name];
  return { ...env, ...extra };
}

/** `cp -r <dir> <target>` (the target must not exist) and back. */
export const cpTool: ReferenceTool = {
  name: 'cp -r',
  wholeCopyOnly: true,
  put: (dir, target) => ({ file: 'cp', args: ['-r', dir, target], env: process.env }),
  get: (target, dir) => ({ file: 'cp', args: ['-r', target, dir], env: process.env }),
};

/**
 * `cp -r` followed by an fsync of every copied file (`sync FILE…`): what a durable copy costs, to
 * set beside a push into the filesystem store, which syncs its packs. Put only.
 */
export const cpFsyncTool: ReferenceTool = {
  name: 'cp -r + fsync',
  wholeCopyOnly: true,
  put: (dir, target) => ({
    file: 'sh',
    args: ['-c', 'cp -r "$1" "$2" && find "$2" -type f -exec sync {} +', 'cp-fsync', dir, target],
    env: process.env,
  }),
};

/**
 * `aws s3 sync` against the benchmark's server with path-style addressing and its key pair,
 * through a config file of its own in `configDir`. Targets are `<bucket>/<prefix>`.
 */
export async function awsTool(server: S3Server, configDir: string): Promise<ReferenceTool> {
  const { endpoint, credentials: key } = server;
  const config = join(configDir, 'aws-config');
  await writeFile(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  const credentials = join(configDir, 'aws-credentials');
  await writeFile(
    credentials,
    `[default]\naws_access_key_id = ${key.accessKeyId}\naws_secret_access_key = ${key.secretAccessKey}\n`,
  );
  const env = cleanEnv({
    AWS_CONFIG_FILE: config,
    AWS_SHARED_CREDENTIALS_FILE: credentials,
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_PAGER: '',
  });
  const sync = (from: string, to: string): Command => ({
    file: AWS_BIN,
    args: ['--endpoint-url', endpoint, 's3', 'sync', from, to, '--only-show-errors', '--no-progress'],
    env,
  });
  return {
    name: 'aws s3 sync',
    wholeCopyOnly: false,
    put: (dir, target) => sync(dir, `s3://${target}`),
    get: (target, dir) => sync(`s3://${target}`, dir),
  };
}

/**
 * `rclone copy` with one remote, `bench`, of the given settings (the server's address and
 * credentials: MinIO's key pair, fake-gcs-server's endpoint, an Azurite account SAS), written to a
 * config file of its own in `configDir` and never printed. Run as `env -u AWS_CA_BUNDLE rclone …`
 * (rclone's S3 backend fails on that variable). Default transfers and checkers, as a user would
 * run it. Targets are buckets (containers).
 */
export async function rcloneTool(configDir: string, remote: Record<string, string>): Promise<ReferenceTool> {
  const config = join(configDir, 'rclone.conf');
  const settings = Object.entries(remote).map(([key, value]) => `${key} = ${value}`);
  await writeFile(config, ['[bench]', ...settings, ''].join('\n'), { mode: 0o600 });
  const env = cleanEnv({});
  const copy = (from: string, to: string): Command => ({
    file: 'env',
    args: ['-u', 'AWS_CA_BUNDLE', RCLONE_BIN, '--config', config, 'copy', from, to],
    env,
  });
  return {
    name: 'rclone copy',
    wholeCopyOnly: false,
    put: (dir, target) => copy(dir, `bench:${target}`),
    get: (target, dir) => copy(`bench:${target}`, dir),
  };
}

/** rclone's remote for the benchmark's MinIO: provider Minio, path style, its key pair. */
export function rcloneS3Remote(server: S3Server): Record<string, string> {
  return {
    type: 's3',
    provider: 'Minio',
    access_key_id: server.credentials.accessKeyId,
    secret_access_key: server.credentials.secretAccessKey,
    endpoint: server.endpoint,
    region: 'us-east-1',
    force_path_style: 'true',
  };
}

/**
 * rclone's remote for fake-gcs-server: its JSON API as the endpoint, anonymous (the emulator
 * checks no credentials; rclone then sends none).
 */
export function rcloneGcsRemote(endpoint: string): Record<string, string> {
  return { type: 'google cloud storage', anonymous: 'true', endpoint: `${endpoint}/storage/v1/` };
}

/**
 * rclone's remote for Azurite: an account SAS URL. rclone 1.60.1's `use_emulator` does not reach
 * Azurite on another port, and its `endpoint` is a domain suffix (`https://<account>.<endpoint>`).
 */
export function rcloneAzureRemote(blobEndpoint: string, sas: string): Record<string, string> {
  return { type: 'azureblob', sas_url: `${blobEndpoint}?${sas}` };
}

/**
 * `azcopy copy --recursive --overwrite=ifSourceNewer` between a directory and a container of
 * Azurite (over http, `--from-to` given: azcopy cannot tell an emulator's URL from a local path),
 * authenticated by an account SAS in the URL (azcopy takes no account key for blobs). A file
 * newer than its copy replaces it (azcopy copy's own incremental mode; `sync` is another command);
 * `--as-subdir=false` copies the directory's contents, not the directory. Default concurrency and
 * buffers; its logs and job plans go to `workDir`.
 */
export function azcopyTool(
  binary: string,
  blobEndpoint: string,
  sas: string,
  workDir: string,
): ReferenceTool {
  const env = cleanEnv({
    AZCOPY_LOG_LOCATION: join(workDir, 'azcopy-logs'),
    AZCOPY_JOB_PLAN_LOCATION: join(workDir, 'azcopy-plans'),
  });
  const copy = (from: string, to: string, fromTo: string): Command => ({
    file: binary,
    args: [
      'copy',
      from,
      to,
      '--from-to',
      fromTo,
      '--recursive',
      '--as-subdir=false',
      '--overwrite=ifSourceNewer',
      '--output-level',
      'essential',
    ],
    env,
  });
  const url = (container: string) => `${blobEndpoint}/${container}?${sas}`;
  return {
    name: 'azcopy copy',
    wholeCopyOnly: false,
    put: (dir, container) => copy(dir, url(container), 'LocalBlob'),
    get: (container, dir) => copy(url(container), dir, 'BlobLocal'),
  };
}

/**
 * `s5cmd sync` (size and modification time decide, like `aws s3 sync`) against the benchmark's
 * server; s5cmd addresses a custom endpoint path style. Default workers and part sizes. Targets
 * are buckets. `--log error` keeps it from printing a line per file.
 */
export function s5cmdTool(binary: string, server: S3Server): ReferenceTool {
  const env = cleanEnv({
    AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
    AWS_REGION: 'us-east-1',
  });
  const sync = (from: string, to: string): Command => ({
    file: binary,
    args: ['--endpoint-url', server.endpoint, '--log', 'error', 'sync', from, to],
    env,
  });
  return {
    name: 's5cmd sync',
    wholeCopyOnly: false,
    put: (dir, bucket) => sync(`${dir}/`, `s3://${bucket}/`),
    get: (bucket, dir) => sync(`s3://${bucket}/*`, `${dir}/`),
  };
}

/** The password of the benchmark's restic repositories (restic always encrypts; see resticTool). */
const RESTIC_PASSWORD = 'ckpt-bench';

/**
 * restic with a repository per target: a folder (`repository(target)` = the path) or a bucket on
 * the benchmark's server (`s3:<endpoint>/<bucket>`). `put` backs the directory up as `.` from
 * inside it, so that a snapshot holds the directory's contents at its root (as a pull writes
 * them) and the next backup of the same directory finds it as its parent; `get` restores the
 * latest snapshot with `--overwrite if-changed --delete` (restic's own incremental restore: files
 * that already hold the right bytes are left alone, others are rewritten, extra ones removed).
 * Defaults otherwise: compression `auto`, 16 MiB packs, encryption (always on in restic; ckpt
 * does not encrypt). Its cache goes to `cacheDir`.
 */
export function resticTool(
  binary: string,
  repository: (target: string) => string,
  cacheDir: string,
  server?: S3Server,
): ReferenceTool {
  const env = cleanEnv({
    RESTIC_PASSWORD,
    RESTIC_CACHE_DIR: cacheDir,
    ...(server
      ? {
          AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
          AWS_DEFAULT_REGION: 'us-east-1',
        }
      : {}),
  });
  const restic = (target: string, ...args: string[]): Command => ({
    file: binary,
    args: ['--repo', repository(target), '--quiet', ...args],
    env,
  });
  return {
    name: 'restic',
    wholeCopyOnly: false,
    keepsHistory: true,
    prepare: (target) => restic(target, 'init'),
    put: (dir, target) => ({
      file: 'sh',
      args: [
        '-c',
        'cd "$1" && shift && exec "$@"',
        'restic-backup',
        dir,
        binary,
        ...restic(target, 'backup', '--host', 'bench', '.').args,
      ],
      env,
    }),
    get: (target, dir) =>
      restic(target, 'restore', 'latest', '--target', dir, '--overwrite', 'if-changed', '--delete'),
  };
}

/**
 * The binary of a tool `scripts/install-test-tools.sh --bench` builds (`$CKPT_TOOLS_DIR/bin`
 * first, then PATH), or undefined when it is missing.
 */
export async function toolBinary(name: string): Promise<string | undefined> {
  return findBinary(name).catch(() => undefined);
}

/**
 * `<version output>` of a tool built by the install script, with what it was built from (its
 * stamp) when the binary does not know its own version (a build from the module cache has no VCS
 * stamp). Without `args` (a binary with no version flag), the stamp alone.
 */
export async function builtToolVersion(name: string, args?: string[]): Promise<string> {
  const binary = await toolBinary(name);
  if (!binary) return 'missing';
  const stamp = await readFile(join(toolsBinDir(), '..', 'stamps', name), 'utf8').then(
    (text) => text.trim(),
    () => '',
  );
  if (!args) return stamp ? `built from ${stamp}` : 'unknown';
  const version = await toolVersion(binary, args);
  const pinned = stamp.split('@').at(-1)?.replace(/^v/, '');
  return pinned && !version.includes(pinned) ? `${version} (built from ${stamp})` : version;
}

async function onPath(file: string): Promise<boolean> {
  if (file.startsWith('/'))
    return access(file, constants.X_OK).then(
      () => true,
      () => false,
    );
  return run('sh', ['-c', `command -v ${file}`]).then(
    () => true,
    () => false,
  );
}

/**
 * Makes sure aws-cli and rclone are installed (`apt-get install -y rclone awscli` when one is
 * missing). Returns what is missing afterwards (empty when both are there).
 */
export async function ensureDebianTools(log: (line: string) => void): Promise<string[]> {
  const missing = async () =>
    (await Promise.all([AWS_BIN, RCLONE_BIN].map(async (f) => ((await onPath(f)) ? '' : f)))).filter(Boolean);
  if ((await missing()).length === 0) return [];
  log('installing the reference tools: apt-get install -y rclone awscli');
  await run('apt-get', ['install', '-y', 'rclone', 'awscli'], { maxBuffer: 64 << 20 }).catch((err) =>
    log(`apt-get failed: ${(err as Error).message.split('\n')[0]}`),
  );
  return missing();
}

/** First line of a tool's version output, or `missing`. */
export async function toolVersion(file: string, args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await run(file, args, { env: cleanEnv({}) });
    return (stdout || stderr).split('\n')[0]!.trim();
  } catch {
    return 'missing';
  }
}
