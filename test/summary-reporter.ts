import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints one plain closing line for CI logs, `tests: N passed, N failed, N skipped (node vX.Y.Z)`:
 * the Node version is the one the tests ran on (vitest's workers run on the same binary).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
    }
    process.stdout.write(
      `\ntests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped (node ${process.version})\n`,
    );
  }
}
