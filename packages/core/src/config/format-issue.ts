import type { z } from 'zod';
import { redact, StoreError } from '../errors.js';

type Issue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const quoted = (values: readonly unknown[]) => values.map((v) => JSON.stringify(v)).join(', ');

const TYPE_NAMES: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

/**
 * A zod error map that phrases every issue as what was expected (`expected an integer`, `unknown
 * key "buckt" (did you mean "bucket"?)`). Messages set by a schema itself take precedence. It never
 * repeats the input value, so secrets cannot leak through validation errors.
 */
export function readableErrorMap(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_NAMES[issue.expected] ?? issue.expected}`;
    case 'invalid_value':
      return `expected ${issue.values.length === 1 ? '' : 'one of '}${quoted(issue.values)}`;
    case 'unrecognized_keys':
      return unknownKeys(
        issue.keys,
        Object.keys((issue.inst?._zod.def as { shape?: object } | undefined)?.shape ?? {}),
      );
    case 'invalid_union':
      return 'options' in issue && Array.isArray(issue.options)
        ? `expected one of ${quoted(issue.options)}`
        : undefined;
    case 'too_small':
    case 'too_big': {
      const bound = issue.code === 'too_small' ? issue.minimum : issue.maximum;
      const word = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'string' && issue.code === 'too_small' && bound === 1)
        return 'expected a non-empty string';
      if (issue.origin === 'string') return `expected ${word} ${bound} characters`;
      if (issue.origin === 'array') return `expected ${word} ${bound} items`;
      const sign = issue.code === 'too_small' ? (issue.inclusive ? '≥' : '>') : issue.inclusive ? '≤' : '<';
      return `expected a number ${sign} ${bound}`;
    }
    case 'invalid_format':
      return issue.format === 'regex'
        ? `expected a string matching ${issue.pattern}`
        : `expected a ${issue.format}`;
    default:
      return undefined;
  }
}

function unknownKeys(keys: string[], known: string[]): string {
  if (keys.length > 1) return `unknown keys ${quoted(keys)}; allowed keys: ${known.join(', ')}`;
  const key = keys[0] ?? '';
  const close = known.find((k) => editDistance(k.toLowerCase(), key.toLowerCase()) <= 2);
  return close
    ? `unknown key ${JSON.stringify(key)} (did you mean ${JSON.stringify(close)}?)`
    : `unknown key ${JSON.stringify(key)}; allowed keys: ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) {
      next[j] = Math.min(row[j]! + 1, next[j - 1]! + 1, row[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    row = next;
  }
  return row[b.length]!;
}

/**
 * The one issue worth showing. An unknown key (usually a typo) wins over the rest. In a union,
 * the branch that matched best is followed: not one where the value has the wrong kind, nor one
 * whose `type` (the discriminator of every store config) did not match.
 */
export function mostRelevantIssue(
  issues: readonly Issue[],
  base: PropertyKey[] = [],
): { issue: Issue; path: PropertyKey[] } {
  const issue = issues.find((i) => i.code === 'unrecognized_keys') ?? issues[0]!;
  const path = [...base, ...issue.path];
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return { issue, path };
  const score = (branch: Issue[]): number =>
    branch.some((i) => i.code === 'invalid_type' && i.path.length === 0)
      ? 0
      : branch.some((i) => i.path.length === 1 && i.path[0] === 'type')
        ? 1
        : 2;
  const scores = issue.errors.map(score);
  const best = Math.max(...scores);
  if (best === 0) return { issue, path };
  return mostRelevantIssue(issue.errors[scores.indexOf(best)]!, path);
}

/**
 * `store.bucket`, `modules[0]`, `store["odd key"]`. A name that `redact` would take for a secret
 * before a colon (`secretAccessKey: …`) is bracketed, so the message after it survives redaction.
 */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    const name = String(part);
    if (typeof part === 'number') out += `[${part}]`;
    else if (/^[A-Za-z_$][\w$]*$/.test(name) && redact(`${name}: x`) === `${name}: x`)
      out += out ? `.${name}` : name;
    else out += `[${JSON.stringify(name)}]`;
  }
  return out;
}

/** Where a config came from, for error messages. */
export interface IssueContext {
  /** Operation word of the error: `config` or `store URL`. */
  operation: string;
  /** Path of the validated value inside the config, e.g. `['store']`. */
  base?: PropertyKey[];
  /** Appended in parentheses, e.g. `in /srv/ckpt.config.json`. */
  origin?: string;
}

/** Validates `value` with `schema` and returns the result, or throws a one-line `InvalidArgument`. */
export function parseConfig<T>(schema: z.ZodType<T>, value: unknown, context: IssueContext): T {
  const result = schema.safeParse(value, { error: readableErrorMap });
  if (result.success) return result.data;
  const { issue, path } = mostRelevantIssue(result.error.issues, context.base);
  const detail = context.origin ? `${issue.message} (${context.origin})` : issue.message;
  throw new StoreError('InvalidArgument', detail, {
    operation: context.operation,
    key: formatPath(path) || undefined,
  });
}
