import { MAX_TIMEOUT_MS, parseDuration, parseSize } from '@ckpt/core/cli';
import { InvalidArgumentError } from 'commander';

/** Commander parser for `--grace 6h`: milliseconds. */
export function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 30m, 6h, 2d or 1h30m.');
  return ms;
}

/** Commander parser for `--cache-size 20GiB`: bytes. */
export function sizeArg(text: string): number {
  try {
    return parseSize(text);
  } catch {
    throw new InvalidArgumentError('expected a size such as 512MiB, 20GiB or 1TiB.');
  }
}

/** Commander parser for `--timeout 30s`: milliseconds, from 1 ms to a day. */
export function timeoutArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined || ms === 0 || ms > MAX_TIMEOUT_MS)
    throw new InvalidArgumentError('expected a duration from 1ms to 1d such as 30s or 2m.');
  return ms;
}

/** Commander parser for an integer in `[min, max]`. */
export function integerArg(min: number, max = Number.MAX_SAFE_INTEGER): (text: string) => number {
  const expected =
    max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
  return (text) => {
    const value = Number(text.trim());
    if (!/^\d+$/.test(text.trim()) || value < min || value > max)
      throw new InvalidArgumentError(`expected ${expected}.`);
    return value;
  };
}

/** Commander parser for `--keep 3`: a non-negative integer. */
export const countArg = integerArg(0);

/** Commander parser for repeatable `--label key=value`. */
export function labelArg(text: string, labels: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value.');
  return { ...labels, [text.slice(0, eq)]: text.slice(eq + 1) };
}
