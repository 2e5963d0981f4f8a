// `ckpt completion <shell>` prints a script; the script asks `ckpt complete -- <words>` for candidates.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

/** The candidates `ckpt complete -- words…` offers, without their descriptions and the directive line. */
async function candidates(cwd: string, ...words: string[]): Promise<string[]> {
  const run = await ckpt(['complete', '--', ...words], { cwd });
  expect(run.code).toBe(0);
  const out = lines(run.stdout);
  expect(out.at(-1)).toMatch(/^:\d+$/);
  return out.slice(0, -1).map((line) => line.split('\t')[0]!);
}

describe('shell completion', () => {
  it('prints a bash script that bash parses, and zsh and fish scripts that call ckpt back', async () => {
    const cwd = await tempDir();
    const bash = await ckpt(['completion', 'bash'], { cwd });
    expect(bash.code).toBe(0);
    expect(bash.stdout).toContain('complete -F __ckpt_complete ckpt');
    await writeFile(path.join(cwd, 'ckpt.bash'), bash.stdout);
    await promisify(execFile)('bash', ['-n', path.join(cwd, 'ckpt.bash')]);
    for (const shell of ['zsh', 'fish']) {
      const script = await ckpt(['completion', shell], { cwd });
      expect(script.code).toBe(0);
      expect(script.stdout).toContain('ckpt complete --');
    }
    const unknown = await ckpt(['completion', 'tcsh'], { cwd });
    expect(unknown.code).toBe(2);
  });

  it('completes commands and each command’s options', async () => {
    const cwd = await tempDir();
    expect(await candidates(cwd, 'pu')).toEqual(['push', 'pull']);
    expect(await candidates(cwd, 'pull', '--')).toEqual(
      expect.arrayContaining(['--generation', '--force', '--dry-run']),
    );
    expect(await candidates(cwd, 'gc', '--')).toEqual(expect.arrayContaining(['--keep', '--grace', '--all']));
  });
});
