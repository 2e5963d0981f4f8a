import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import { promisify } from 'node:util';
import { filesUnder } from './sdk.js';
import { AWS_BIN, builtToolVersion, RCLONE_BIN, toolVersion } from './tools.js';
import type { CacheMode, MachineInfo } from './types.js';

const run = promisify(execFile);

/** Flushes dirty pages to disk (so that one operation's writeback does not land in the next one). */
export async function syncDisks(): Promise<void> {
  await run('sync');
}

/** `sync; echo 3 > /proc/sys/vm/drop_caches`; false when not allowed (not root, a container). */
export async function dropCaches(): Promise<boolean> {
  await syncDisks();
  try {
    await writeFile('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}

/** Reads every file under `paths` once (into the page cache), discarding the bytes. */
export async function warmUp(paths: string[]): Promise<void> {
  for (const path of paths) {
    for (const file of await filesUnder(path).catch(() => [])) {
      for await (const _ of createReadStream(file, { highWaterMark: 1 << 20 })) {
        // read only
      }
    }
  }
}

/** Puts the page cache in `mode` for an operation reading `paths`: warm reads them, cold drops all. */
export async function prepareCache(mode: CacheMode, paths: string[]): Promise<void> {
  if (mode === 'cold') {
    if (!(await dropCaches()))
      throw new Error('cannot drop the page cache (needs root): run with --cache warm');
    return;
  }
  await syncDisks();
  await warmUp(paths);
}

/** The version of the Azurite that `@ckpt/test-servers` starts (its npm dependency). */
function azuriteVersion(): string {
  const launcher = createRequire(import.meta.url).resolve('@ckpt/test-servers/package.json');
  return (createRequire(launcher)('azurite/package.json') as { version: string }).version;
}

/** The machine, the tools' versions and whether caches can be dropped. */
export async function machineInfo(workDir: string, dropCachesWorks: boolean): Promise<MachineInfo> {
  const disk = await run('df', ['-h', '--output=source,fstype,size,avail', workDir]).then(
    ({ stdout }) => {
      const [source, fstype, size, avail] = stdout.trim().split('\n').at(-1)!.trim().split(/\s+/);
      return `${fstype} on ${source} (${size}, ${avail} free)`;
    },
    () => 'unknown',
  );
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
    memoryBytes: os.totalmem(),
    disk,
    node: process.version,
    kernel: `${os.type()} ${os.release()}`,
    loadAverageStart: os.loadavg().map((l) => Math.round(l * 100) / 100),
    dropCaches: dropCachesWorks,
    tools: {
      cp: await toolVersion('cp', ['--version']),
      aws: await toolVersion(AWS_BIN, ['--version']),
      rclone: await toolVersion(RCLONE_BIN, ['version']),
      s5cmd: await builtToolVersion('s5cmd', ['version']),
      restic: await builtToolVersion('restic', ['version']),
      minio: await builtToolVersion('minio', ['--version']),
      'fake-gcs-server': await builtToolVersion('fake-gcs-server'),
      azurite: azuriteVersion(),
      azcopy: await builtToolVersion('azcopy', ['--version']),
    },
  };
}
