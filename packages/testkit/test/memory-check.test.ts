import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failures, named, runSuite } from './support/collect.js';
import {
  BufferingGetBackend,
  BufferingPutBackend,
  fileRaw,
  StreamingFileBackend,
} from './support/file-store.js';

const MiB = 1024 * 1024;

/** The streaming group (memory checked) against file backends made by `make`, with `size` objects. */
function streamingGroup(make: (dir: string) => StreamingFileBackend, size = 64 * MiB) {
  return runSuite({
    name: 'file store',
    largeObjectBytes: size,
    skip: ['basic', 'ranges', 'list', 'conditional', 'errors', 'keys', 'abort', 'deleteMany'],
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ckpt-testkit-'));
      return {
        backend: make(dir),
        raw: fileRaw(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  });
}

const large = (size: number) =>
  `streaming > streams a ${(size / MiB).toFixed(1)} MiB object of unknown length in and out with bounded memory`;
const LARGE = large(64 * MiB);
/**
 * The broken backends hold objects of this size: well past what the allocator may keep from the
 * test before and hand out again without RSS growing (a 64 MiB buffering put once went unseen in
 * a full CI run).
 */
const HELD = 160 * MiB;

describe('the memory check of the streaming group', () => {
  it('passes a backend that streams', async () => {
    const outcomes = await streamingGroup((dir) => new StreamingFileBackend(dir));
    expect(failures(outcomes)).toEqual([]);
    expect(named(outcomes, 'passed')).toContain(LARGE);
  }, 120_000);

  it('fails a backend that buffers the body of a put', async () => {
    const outcomes = await streamingGroup((dir) => new BufferingPutBackend(dir), HELD);
    expect(named(outcomes, 'failed')).toEqual([large(HELD)]);
    expect(failures(outcomes)[0]).toMatch(
      /put: RSS grew by .* the adapter seems to hold the object in memory/,
    );
  }, 120_000);

  it('fails a backend that reads a whole object before returning its body', async () => {
    const outcomes = await streamingGroup((dir) => new BufferingGetBackend(dir), HELD);
    expect(named(outcomes, 'failed')).toEqual([large(HELD)]);
    expect(failures(outcomes)[0]).toMatch(/get: RSS grew by/);
  }, 120_000);
});
