import { parseDuration } from '@ckpt/core/cli';
import { InvalidArgumentError } from 'commander';

/** Commander parser for `--grace 6h`: milliseconds. */
export function durationArg(text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 30m, 6h, 2d or 1h30m.');
  return ms;
}

/** Commander parser for `--keep 3`: a non-negative integer. */
export function countArg(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError('expected a non-negative integer.');
  return Number(text);
}

/** Commander parser for repeatable `--label key=value`. */
export function labelArg(text: string, labels: Record<string, string> = {}): Record<string, string> {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError('expected key=value.');
  return { ...labels, [text.slice(0, eq)]: text.slice(eq + 1) };
}
