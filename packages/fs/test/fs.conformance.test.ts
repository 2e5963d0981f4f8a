import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runConformance } from '@ckpt/testkit';
import { describe, it } from 'vitest';
import { FsStore, fsRawReader } from '../src/index.js';

// Every group applies: FsStore declares conditional writes and ranged reads, and no metadata (the
// metadata test skips itself on that capability).
runConformance(
  { describe, it },
  {
    name: 'FsStore',
    create: async () => {
      const root = await mkdtemp(path.join(tmpdir(), 'ckpt-fs-conformance-'));
      return {
        store: new FsStore({ root }),
        raw: fsRawReader(root),
        cleanup: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
);
