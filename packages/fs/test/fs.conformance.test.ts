import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runConformance } from '@ckpt/testkit';
import { describe, it } from 'vitest';
import { FsBackend, fsRawReader } from '../src/index.js';

// Every group applies: FsBackend declares conditional writes and ranged reads, and no metadata (the
// metadata test skips itself on that capability).
runConformance(
  { describe, it },
  {
    name: 'FsBackend',
    create: async () => {
      const root = await mkdtemp(path.join(tmpdir(), 'ckpt-fs-conformance-'));
      return {
        backend: new FsBackend({ root }),
        raw: fsRawReader(root),
        cleanup: () => rm(root, { recursive: true, force: true }),
      };
    },
  },
);
