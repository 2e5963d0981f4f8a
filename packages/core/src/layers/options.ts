import { StoreError } from '../errors.js';

/** Bounds for {@link checkNumber}. */
export interface NumberRule {
  min: number;
  max?: number;
  integer?: boolean;
}

/** Returns `value` when it is a finite number within `rule`, else throws `InvalidArgument` naming `layer` and `field`. */
export function checkNumber(layer: string, field: string, value: number, rule: NumberRule): number {
  const { min, max = Number.POSITIVE_INFINITY, integer = false } = rule;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
  if (!ok || (integer && !Number.isInteger(value))) {
    const range = max === Number.POSITIVE_INFINITY ? `≥ ${min}` : `in [${min}, ${max}]`;
    throw new StoreError(
      'InvalidArgument',
      `must be ${integer ? 'an integer' : 'a number'} ${range}, got ${String(value)}`,
      {
        operation: layer,
        key: field,
      },
    );
  }
  return value;
}
