import { randomBytes } from 'node:crypto';
import { StoreError } from '../errors.js';

const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._+=@:-]*$/;
const MAX_MODEL_LENGTH = 200;
// a segment named like a manifest would be both a folder and a file in a filesystem store
const MANIFEST_NAME = /^\d{8}T\d{9}Z-[0-9a-f]{8}\.json$/;

/**
 * Returns `model` when it is a valid model name, else throws `InvalidArgument`. A model name is
 * one segment, or two joined by `/` as Hugging Face names are (`meta-llama/Llama-3.1-8B-Instruct`):
 * 1–200 characters in all. A segment is letters, digits and `. _ + = @ : -`, starts with a letter or
 * digit, holds no `..` and does not end in `.`: each is one key segment and one file name. The first
 * of two segments is never `ckpt` (in any case): llmux 0.7 keys (`<model>/images/…`) of such a model
 * would fall inside ckpt's own `ckpt/` namespace.
 */
export function validateModel(model: string): string {
  const problem = modelProblem(model);
  if (problem) {
    throw new StoreError('InvalidArgument', problem, {
      operation: 'model',
      key: JSON.stringify(String(model)),
    });
  }
  return model;
}

/** Why `model` is not a valid model name, or undefined when it is one. */
function modelProblem(model: string): string | undefined {
  const rule =
    'a model name is "name" or "org/name", 1-200 letters, digits and ._+=@:- in all; each part starts with a letter or digit, has no ".." and does not end in "."';
  if (typeof model !== 'string' || model.length === 0 || model.length > MAX_MODEL_LENGTH) return rule;
  const segments = model.split('/');
  if (segments.length > 2) return `${rule} (at most one "/")`;
  for (const segment of segments) {
    if (!SEGMENT.test(segment) || segment.includes('..') || segment.endsWith('.')) return rule;
    if (MANIFEST_NAME.test(segment))
      return "a part of a model name cannot look like a generation's file name";
  }
  if (segments.length === 2 && segments[0]!.toLowerCase() === 'ckpt')
    return 'an org/name model cannot be in the org "ckpt" (the store\'s own namespace)';
  return undefined;
}

const GENERATION = /^\d{8}T\d{9}Z-[0-9a-f]{8}$/;

/** True for ids of the form `YYYYMMDDTHHMMSSmmmZ-<8 hex>` (what a commit names its generation). */
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
