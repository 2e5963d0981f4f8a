import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** Bytes of the pages file of a {@link writeTinyCheckpoint}, new in each generation. */
export const TINY_PAGES_BYTES = 32 * 1024;

/**
 * A small CRIU-like directory for the fleet listing and collection scenario, where the number of
 * models and generations matters, not their size: a pages file whose bytes are new in every
 * generation, a core file and an inventory that stay. Writes `generation`'s files into `dir`.
 */
export async function writeTinyCheckpoint(dir: string, model: string, generation: number): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'pages-1.img'), randomBytes(TINY_PAGES_BYTES));
  if (generation > 0) return;
  await writeFile(join(dir, 'core-1.img'), randomBytes(4096));
  await writeFile(join(dir, 'inventory.img'), `model ${model}\n`);
}
