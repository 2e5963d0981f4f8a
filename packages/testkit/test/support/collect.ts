import { type ConformanceOptions, runConformance, type TestApi } from '../../src/index.js';

export type Outcome =
  | { status: 'passed' }
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; error: unknown };

interface Collected {
  name: string;
  fn: (frameworkContext?: unknown) => Promise<void> | void;
}

/**
 * Registers the suite with a TestApi that only records the tests, runs them one by one, and
 * returns each test's outcome by its name (`group > test`, without the outer describe).
 */
export async function runSuite(options: ConformanceOptions): Promise<Map<string, Outcome>> {
  const tests: Collected[] = [];
  const path: string[] = [];
  const api: TestApi = {
    describe(name, fn) {
      path.push(name);
      fn();
      path.pop();
    },
    it(name, fn) {
      tests.push({ name: [...path.slice(1), name].join(' > '), fn });
    },
  };
  runConformance(api, options);

  const outcomes = new Map<string, Outcome>();
  for (const test of tests) {
    let skipped: string | undefined;
    try {
      await test.fn({ skip: (reason: string) => (skipped = reason) });
      outcomes.set(
        test.name,
        skipped === undefined ? { status: 'passed' } : { status: 'skipped', reason: skipped },
      );
    } catch (error) {
      outcomes.set(test.name, { status: 'failed', error });
    }
  }
  return outcomes;
}

/** Names of the tests with `status`. */
export function named(outcomes: Map<string, Outcome>, status: Outcome['status']): string[] {
  return [...outcomes].filter(([, o]) => o.status === status).map(([name]) => name);
}

/** `name: message` of every failure, for assertion messages. */
export function failures(outcomes: Map<string, Outcome>): string[] {
  return [...outcomes].flatMap(([name, o]) => (o.status === 'failed' ? [`${name}: ${String(o.error)}`] : []));
}
