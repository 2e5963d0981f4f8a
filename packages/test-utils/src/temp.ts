import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach } from 'vitest';

/**
 * Makes fresh temporary folders named `<prefix>…`, each removed after the test that made it
 * (`until: 'test'`) or after the file's last test (`until: 'file'`, for folders a `beforeAll`
 * makes). Call it at the top of a test file or a `describe`.
 */
export function useTempDir(prefix: string, until: 'test' | 'file' = 'test'): () => Promise<string> {
  const dirs: string[] = [];
  (until === 'file' ? afterAll : afterEach)(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async () => {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
}
