import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// ckpt's local records go to a state directory of this run, never to the user's own
process.env.CKPT_STATE_DIR ??= mkdtempSync(join(tmpdir(), 'ckpt-test-state-'));

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'test'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
