import { execFile } from 'node:child_process';
import { access, constants, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { S3RVER_KEY } from './sdk.js';
import type { Tool } from './types.js';

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
  put(dir: string, target: string): Command;
  /** Absent for a put-only reference. */
  get?(target: string, dir: string): Command;
}

/** The environment without anything that would point a tool at real AWS or break it (AWS_CA_BUNDLE). */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env))
    if (name.startsWith('AWS_') || name.startsWith('RCLONE_')) delete env[name];
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
 * `aws s3 sync` against s3rver with path-style addressing and the S3RVER key, through a config
 * file of its own in `configDir`. Targets are `<bucket>/<prefix>`.
 */
export async function awsTool(endpoint: string, configDir: string): Promise<ReferenceTool> {
  const config = join(configDir, 'aws-config');
  await writeFile(config, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
  const credentials = join(configDir, 'aws-credentials');
  await writeFile(
    credentials,
    `[default]\naws_access_key_id = ${S3RVER_KEY}\naws_secret_access_key = ${S3RVER_KEY}\n`,
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
 * `rclone copy` against s3rver (provider Other, path style, the S3RVER key) through a config file
 * of its own, run as `env -u AWS_CA_BUNDLE rclone …` (rclone fails on that variable). Default
 * transfers and checkers, as a user would run it.
 */
export async function rcloneTool(endpoint: string, configDir: string): Promise<ReferenceTool> {
  const config = join(configDir, 'rclone.conf');
  await writeFile(
    config,
    [
      '[bench]',
      'type = s3',
      'provider = Other',
      `access_key_id = ${S3RVER_KEY}`,
      `secret_access_key = ${S3RVER_KEY}`,
      `endpoint = ${endpoint}`,
      'region = us-east-1',
      'force_path_style = true',
      '',
    ].join('\n'),
  );
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
export async function ensureS3Tools(log: (line: string) => void): Promise<string[]> {
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
