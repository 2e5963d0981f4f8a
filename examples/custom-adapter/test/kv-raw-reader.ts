import { createHash } from 'node:crypto';
import { open, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { compareKeys } from '@ckpt/core/backend';
import type { RawReader } from '@ckpt/testkit';

/**
 * Reads the directory the way the format is documented, without KvDirBackend's code. Anything that
 * is not a well-formed object file (a leftover temp file, a misnamed file) is reported as a key of
 * its own, so the suite's "nothing else is stored" checks catch it.
 */
export function kvRawReader(dir: string): RawReader {
  const fileOf = (key: string) => join(dir, createHash('sha256').update(key).digest('hex'));
  return {
    async read(key) {
      const bytes = await readFile(fileOf(key)).catch(() => undefined);
      return bytes?.subarray(bytes.indexOf(10) + 1);
    },
    async keys() {
      const keys: string[] = [];
      for (const name of await readdir(dir)) {
        const key = await firstLine(join(dir, name));
        keys.push(key !== undefined && fileOf(key) === join(dir, name) ? key : `<stray file ${name}>`);
      }
      return keys.sort(compareKeys);
    },
  };
}

async function firstLine(file: string): Promise<string | undefined> {
  const handle = await open(file);
  try {
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(1025), 0, 1025, 0);
    const end = buffer.subarray(0, bytesRead).indexOf(10);
    return end < 0 ? undefined : buffer.toString('utf8', 0, end);
  } finally {
    await handle.close();
  }
}
