import { StoreError } from '../errors.js';

const UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 2 ** 10,
  kib: 2 ** 10,
  m: 2 ** 20,
  mib: 2 ** 20,
  g: 2 ** 30,
  gib: 2 ** 30,
  t: 2 ** 40,
  tib: 2 ** 40,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
};

/** A byte size as {@link parseSize} reads it (the unit is checked there). */
export const SIZE_PATTERN = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i;

/**
 * Parses a byte size: a number with an optional unit, `K M G T` and `KiB MiB GiB TiB` binary,
 * `KB MB GB TB` decimal (case-insensitive). `'3GiB'` → 3221225472, `'1.5 GB'` → 1500000000.
 * The result is rounded down to whole bytes.
 */
export function parseSize(text: string, field = 'size'): number {
  const match = SIZE_PATTERN.exec(text);
  const unit = UNITS[match?.[2]?.toLowerCase() ?? ''];
  if (!match || unit === undefined) {
    throw new StoreError(
      'InvalidArgument',
      `${field} must be a size like 512MiB or 3GiB (got ${JSON.stringify(text)})`,
      {
        operation: 'parse size',
      },
    );
  }
  return Math.floor(Number(match[1]) * unit);
}
