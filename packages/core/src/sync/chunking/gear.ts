import { createHash } from 'node:crypto';

/**
 * The seed of the gear table. Part of the on-store format: changing it moves every chunk
 * boundary, so no chunk of an earlier generation would be reused.
 */
export const GEAR_SEED = 'ckpt-gear-v1';

/**
 * The 256 gear values of the rolling hash, as int32: `GEAR[b]` is the first 4 bytes (big-endian)
 * of SHA-256 of the ASCII text `${GEAR_SEED}:${b}`, e.g. SHA-256("ckpt-gear-v1:0") for byte 0.
 */
export const GEAR: Int32Array = gearTable(GEAR_SEED);

function gearTable(seed: string): Int32Array {
  const table = new Int32Array(256);
  for (let b = 0; b < 256; b++)
    table[b] = createHash('sha256').update(`${seed}:${b}`).digest().readInt32BE(0);
  return table;
}
