import type { SerializedError } from 'vitest';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints a line per skipped test with its reason (the note of `ctx.skip(note)`: a test that skips
 * itself must say why), then one plain closing line for CI logs,
 * `tests: N passed, N failed, N skipped; N test files failed; N unhandled errors (node vX.Y.Z)`
 * (the last two only when not zero). A file whose `beforeAll` throws (a server that cannot
 * start) reports its tests as skipped: the failed files count shows it. The Node version is the
 * one the tests ran on (vitest's workers run on the same binary).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<SerializedError>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    const skips: string[] = [];
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const result = test.result();
        if (result.state === 'passed') count.passed++;
        else if (result.state === 'failed') count.failed++;
        else {
          count.skipped++;
          const reason =
            result.state === 'skipped' && result.note
              ? result.note
              : module.state() === 'failed'
                ? 'its file failed'
                : 'no reason given';
          skips.push(
            `skipped: ${module.project.name} ${module.relativeModuleId} > ${test.fullName}: ${reason}\n`,
          );
        }
      }
    }
    if (skips.length > 0) process.stdout.write(`\n${skips.join('')}`);
    const failedFiles = modules.filter((module) => module.state() === 'failed').length;
    const problems = [
      failedFiles ? `; ${failedFiles} test file${failedFiles === 1 ? '' : 's'} failed` : '',
      unhandledErrors.length
        ? `; ${unhandledErrors.length} unhandled error${unhandledErrors.length === 1 ? '' : 's'}`
        : '',
    ].join('');
    process.stdout.write(
      `\ntests: ${count.passed} passed, ${count.failed} failed, ${count.skipped} skipped${problems} (node ${process.version})\n`,
    );
  }
}
