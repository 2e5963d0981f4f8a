import { z } from 'zod';
import { DURATION_PATTERN, MAX_TIMEOUT_MS, parseDuration } from '../duration.js';
import { keyProblem } from '../keys.js';
import { parseSize } from './sizes.js';

export { DURATION_PATTERN, MAX_TIMEOUT_MS, parseDuration };

// Field builders shared by the config schemas. Each carries ONE readable "expected …" message for
// every way the field can be wrong, so a validation error reads `config store.bucket: expected a
// non-empty string` instead of zod's generic wording.

/** A string of at least one character. */
export function text(expected = 'expected a non-empty string') {
  return z.string({ error: expected }).min(1, { error: expected });
}

/** An integer in `[min, max]`. */
export function integer(min: number, max: number, expected = `expected an integer from ${min} to ${max}`) {
  return z
    .number({ error: expected })
    .int({ error: expected })
    .min(min, { error: expected })
    .max(max, { error: expected });
}

/** `true` or `false`. */
export function flag() {
  return z.boolean({ error: 'expected true or false' });
}

/** A duration such as `30s` or `1h30m` (see {@link DURATION_PATTERN}). */
export function duration() {
  const expected = 'expected a duration such as "30s", "6h" or "1h30m"';
  return z.string({ error: expected }).regex(DURATION_PATTERN, { error: expected });
}

/** A byte size such as `20GiB` or `512MiB` (see {@link parseSize}). */
export function byteSize() {
  const expected = 'expected a size such as "20GiB" or "512MiB"';
  return z.string({ error: expected }).check((ctx) => {
    try {
      parseSize(ctx.value);
    } catch {
      ctx.issues.push({ code: 'custom', message: expected, input: ctx.value });
    }
  });
}

/**
 * The `timeout` of a store reached over a network, the same field in every such backend: how long
 * a request may go without an answer, or a body without progress, before it fails with a
 * retryable `Unavailable`. A duration from 1 ms to 1 day; `openStore`'s `timeoutMs` wins over it.
 */
export function timeout() {
  const expected = 'expected a duration from 1ms to 1d such as "30s" or "2m"';
  const inRange = (text: string) => {
    const ms = parseDuration(text) ?? 0;
    return ms > 0 && ms <= MAX_TIMEOUT_MS;
  };
  return z
    .string({ error: expected })
    .regex(DURATION_PATTERN, { error: expected })
    .refine(inRange, { error: expected })
    .optional()
    .meta({
      description:
        'Time a request may wait for an answer, or a body go without progress, before it fails (retryable), e.g. "60s" (default).',
    });
}

/** An `http://` or `https://` URL (an endpoint). */
export function httpUrl() {
  return z.url({ protocol: /^https?$/, error: 'expected an http:// or https:// URL' });
}

/** A key prefix inside a bucket or container, e.g. `team/checkpoints`; outer slashes are ignored. */
export function keyPrefix() {
  const expected = 'expected a key prefix such as "team/checkpoints"';
  return z.string({ error: expected }).check((ctx) => {
    const body = ctx.value.replace(/^\/+|\/+$/g, '');
    const problem = body === '' ? undefined : keyProblem(body);
    if (problem) ctx.issues.push({ code: 'custom', message: `${expected} (${problem})`, input: ctx.value });
  });
}

/** Marks a field as a secret: JSON Schema `writeOnly`, and `redactConfig` hides its value. */
export function secret<T extends z.ZodType>(schema: T, description: string): T {
  return schema.meta({ writeOnly: true, description: `${description} Secret: never printed.` });
}
