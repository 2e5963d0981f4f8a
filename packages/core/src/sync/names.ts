import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';

const MODEL = /^[A-Za-z0-9][A-Za-z0-9._+=@:-]{0,199}$/;

/**
 * Returns `model` when it is a valid model name, else throws `InvalidArgument`. A model name is
 * 1–200 characters of letters, digits and `. _ + = @ : -`, starting with a letter or digit: no `/`,
 * no `..`, no control characters, so it is always one key segment and one file name.
 */
export function validateModel(model: string): string {
  if (typeof model !== 'string' || !MODEL.test(model) || model.includes('..') || model.endsWith('.')) {
    throw new StoreError(
      'InvalidArgument',
      'a model name is 1-200 letters, digits and ._+=@:- (no "/", no "..", not ending in ".")',
      { operation: 'model', key: JSON.stringify(String(model)) },
    );
  }
  return model;
}

const GENERATION = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

/** True for ids made by {@link newGenerationId}. */
export function isGenerationId(id: string): boolean {
  return GENERATION.test(id);
}

export function validateGeneration(id: string): string {
  if (!isGenerationId(id)) {
    throw new StoreError(
      'InvalidArgument',
      'not a generation id (expected e.g. 20261128T134501123Z-1a2b3c4d)',
      {
        operation: 'generation',
        key: JSON.stringify(String(id)),
      },
    );
  }
  return id;
}

/**
 * A new generation id: UTC time to the millisecond, then 32 random bits. Ids sort by time as
 * plain strings. The time is at least 1 ms after `after` (the latest id seen), so a commit always
 * sorts after every generation its writer knew of, even with a slow clock.
 */
export function newGenerationId(now = new Date(), after?: string): string {
  let ms = now.getTime();
  if (after && isGenerationId(after)) ms = Math.max(ms, generationTime(after).getTime() + 1);
  const iso = new Date(ms).toISOString(); // 2026-11-28T13:45:01.123Z
  const stamp = iso.replace(/[-:]/g, '').replace('.', '');
  return `${stamp}-${randomBytes(4).toString('hex')}`;
}

/** The commit time encoded in a generation id. */
export function generationTime(id: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(\d{3})Z/.exec(id);
  if (!m) return new Date(Number.NaN);
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!));
}
