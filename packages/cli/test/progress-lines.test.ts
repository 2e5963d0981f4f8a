// Progress when stderr is not a terminal: a line every --progress-interval, none with 0 or --quiet.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { seededBytes } from '@ckpt/test-utils';
import { describe, expect, it } from 'vitest';
import { ckpt, lines, tempDir } from './helpers.js';

describe('progress lines for logs', () => {
  it('a push prints how far it got at each interval; 0 and --quiet print none', async () => {
    const cwd = await tempDir();
    await writeFile(path.join(cwd, 'pages-1.img'), seededBytes(48 << 20, 7));
    const every = await ckpt(['push', '.', '-m', 'logs', '--progress-interval', '50ms', '--store', '../s'], {
      cwd,
    });
    expect(every.code).toBe(0);
    const progress = lines(every.stderr);
    expect(progress.length).toBeGreaterThan(0);
    for (const line of progress)
      expect(line).toMatch(/^ckpt: (scan|upload) +\d+% \S+ \S+\/\S+ \S+ \d+\/1 files \S+ \S+\/s( ETA .*)?$/);

    await writeFile(path.join(cwd, 'pages-1.img'), seededBytes(48 << 20, 8));
    const never = await ckpt(['push', '.', '-m', 'logs', '--progress-interval', '0', '--store', '../s'], {
      cwd,
    });
    expect(never).toMatchObject({ code: 0, stderr: '' });
    await writeFile(path.join(cwd, 'pages-1.img'), seededBytes(48 << 20, 9));
    const quiet = await ckpt(
      ['push', '.', '-m', 'logs', '--progress-interval', '50ms', '-q', '--store', '../s'],
      {
        cwd,
      },
    );
    expect(quiet).toMatchObject({ code: 0, stderr: '', stdout: '' });
  });
});
