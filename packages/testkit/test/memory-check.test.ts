import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { failures, named, runSuite } from './support/collect.js';
import { BufferingGetStore, BufferingPutStore, fileRaw, StreamingFileStore } from './support/file-store.js';

/** The streaming group (64 MiB, memory checked) against file stores made by `make`. */
function streamingGroup(make: (dir: string) => StreamingFileStore) {
  return runSuite({
    name: 'file store',
    skip: ['basic', 'ranges', 'list', 'conditional', 'errors', 'keys', 'abort', 'deleteMany'],
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ckpt-testkit-'));
      return {
        store: make(dir),
        raw: fileRaw(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  });
}

const LARGE = 'streaming > streams a 64.0 MiB object of unknown length in and out with bounded memory';

describe('the memory check of the streaming group', () => {
  it('passes a store that streams', async () => {
    const outcomes = await streamingGroup((dir) => new StreamingFileStore(dir));
    expect(failures(outcomes)).toEqual([]);
    expect(named(outcomes, 'passed')).toContain(LARGE);
  }, 120_000);

  it('fails a store that buffers the body of a put', async () => {
    const outcomes = await streamingGroup((dir) => new BufferingPutStore(dir));
    expect(named(outcomes, 'failed')).toEqual([LARGE]);
    expect(failures(outcomes)[0]).toMatch(
      /put: RSS grew by .* the adapter seems to hold the object in memory/,
    );
  }, 120_000);

  it('fails a store that reads a whole object before returning its body', async () => {
    const outcomes = await streamingGroup((dir) => new BufferingGetStore(dir));
    expect(named(outcomes, 'failed')).toEqual([LARGE]);
    expect(failures(outcomes)[0]).toMatch(/get: RSS grew by/);
  }, 120_000);
});
