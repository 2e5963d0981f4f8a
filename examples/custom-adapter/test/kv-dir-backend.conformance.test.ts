import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore, registerBackend } from '@ckpt/core';
import { runConformance } from '@ckpt/testkit';
import { describe, it } from 'vitest';
import { backend } from '../src/index.js';
import { kvRawReader } from './kv-raw-reader.js';

// through the registry, as users open it; retries off so that none hides a broken promise
registerBackend(backend);

runConformance(
  { describe, it },
  {
    name: 'KvDirBackend',
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ckpt-kv-'));
      return {
        store: await openStore(`kv://${dir}`, { retry: false }),
        raw: kvRawReader(dir),
        cleanup: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
);
