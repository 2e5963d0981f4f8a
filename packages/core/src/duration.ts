// Durations as people write them (`30s`, `6h`, `1h30m`), in config files, URLs and options.

/** `6h`, `90m`, `1d12h`, `500ms`, `0`: one or more `<integer><unit>` with unit `ms`, `s`, `m`, `h` or `d`, or a bare 0. */
export const DURATION_PATTERN = /^(?:0|(?:\d+(?:ms|s|m|h|d))+)$/;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Milliseconds in a duration such as `6h` or `1h30m` (see {@link DURATION_PATTERN}); `undefined` when malformed. */
export function parseDuration(text: string): number | undefined {
  if (!DURATION_PATTERN.test(text)) return undefined;
  let total = 0;
  for (const [, amount, unit] of text.matchAll(/(\d+)(ms|s|m|h|d)/g))
    total += Number(amount) * UNIT_MS[unit!]!;
  return total;
}

/** The longest request timeout: a day (a timer cannot wait much longer than 24 days). */
export const MAX_TIMEOUT_MS = 86_400_000;

/** `ms` the way {@link parseDuration} reads it, in the largest unit that holds it whole: `2s`, `1500ms`, `1d`. */
export function durationText(ms: number): string {
  const [unit, size] = Object.entries(UNIT_MS)
    .reverse()
    .find(([, size]) => ms % size === 0) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}
