import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineConfig } from 'vitest/config';

// ckpt's local records go to a state directory of this run, never to the user's own, and it goes
// with the run
const stateDir = mkdtempSync(join(tmpdir(), 'ckpt-test-state-'));
process.env.CKPT_STATE_DIR ??= stateDir;
process.on('exit', () => rmSync(stateDir, { recursive: true, force: true }));

export default defineConfig({
  test: {
    projects: ['packages/*', 'examples/*', 'test'],
    reporters: ['default', './test/summary-reporter.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
