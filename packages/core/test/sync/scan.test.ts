import { execFileSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeCheckpoint } from '@ckpt/test-utils';
import { afterEach, beforeEach, expect, it } from 'vitest';
import { StoreError } from '../../src/errors.js';
import { type ScannedEntry, scanDirectory } from '../../src/sync/scan.js';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'ckpt-scan-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

it('lists files, directories and symlinks sorted, parents first; onEntry sees each as it is found', async () => {
  await makeCheckpoint(work);
  const seen: ScannedEntry[] = [];
  let listed = false;
  const entries = await scanDirectory(work, (entry) => {
    if (!listed) seen.push(entry);
  }).finally(() => {
    listed = true;
  });
  const paths = entries.map((e) => e.path);
  expect(paths).toEqual([...paths].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
  expect(paths.indexOf('rootfs')).toBeLessThan(paths.indexOf('rootfs/cache/README'));
  expect(entries.find((e) => e.path === 'rootfs/readme-link')).toMatchObject({
    type: 'symlink',
    target: 'cache/README',
  });
  expect(entries.find((e) => e.path === 'cuda_pids')).toMatchObject({ type: 'file', mode: 0o640, size: 5 });
  // the same entries, each once, all before the list was returned
  expect(seen.map((e) => e.path).sort()).toEqual([...paths].sort());
  expect(new Set(seen)).toEqual(new Set(entries));
});

it('refuses a FIFO, naming it', async () => {
  await makeCheckpoint(work);
  const fifo = path.join(work, 'rootfs', 'pipe');
  execFileSync('mkfifo', [fifo]);
  await expect(scanDirectory(work)).rejects.toSatisfy(
    (err) => StoreError.is(err, 'InvalidArgument') && err.key === fifo && /FIFO/.test(err.message),
  );
});
