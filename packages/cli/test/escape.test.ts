import { PassThrough } from 'node:stream';
import { StoreError } from '@ckpt/core';
import { describe, expect, it } from 'vitest';
import { escapeJsonText, escapeTerminal } from '../src/output/escape.js';
import { jsonLine } from '../src/output/json.js';
import { Reporter } from '../src/output/reporter.js';
import { formatTable } from '../src/output/table.js';

const HOSTILE = 'a\u001b]0;pwned\u0007b\u009b31mc\u202ed\re\tf\u007fg';

/** A Reporter writing into strings. */
function capture(mode: Partial<Reporter['mode']> = {}) {
  const out = { stdout: '', stderr: '' };
  const stream = (name: 'stdout' | 'stderr') => {
    const s = new PassThrough();
    s.setEncoding('utf8').on('data', (d: string) => (out[name] += d));
    return s as unknown as NodeJS.WriteStream;
  };
  const reporter = new Reporter(
    { json: false, quiet: false, verbose: true, debug: false, ...mode },
    stream('stdout'),
    stream('stderr'),
  );
  return { reporter, out };
}

/** True when `text` holds a character a terminal would act on (its own newlines aside). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the test
const unsafe = (text: string) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/.test(text);

describe('escaping for the terminal', () => {
  it('escapes controls, C1 (single-byte CSI) and bidi overrides visibly; keeps text and backslashes', () => {
    expect(escapeTerminal(HOSTILE)).toBe('a\\x1b]0;pwned\\x07b\\x9b31mc\\u{202e}d\\x0de\\x09f\\x7fg');
    expect(escapeTerminal('meta-llama/Llama-3.1-8B «ok» \\x1b')).toBe('meta-llama/Llama-3.1-8B «ok» \\x1b');
    expect(escapeTerminal(escapeTerminal(HOSTILE))).toBe(escapeTerminal(HOSTILE));
  });

  it('JSON keeps the same value with no raw unsafe character', () => {
    const text = jsonLine({ label: HOSTILE });
    expect(unsafe(text)).toBe(false);
    expect(JSON.parse(text)).toEqual({ label: HOSTILE });
    expect(escapeJsonText('"\u009b"')).toBe('"\\u009b"');
  });

  it('tables are aligned on the escaped text', () => {
    expect(
      formatTable([
        ['A', 'B'],
        ['\u001b[2J', 'x'],
      ]),
    ).toEqual(['A        B', '\\x1b[2J  x']);
  });

  it('every Reporter output is escaped: results, notices, verbose lines and errors', async () => {
    const { reporter, out } = capture();
    reporter.result([`model ${HOSTILE}`, 'second line'], {});
    reporter.info(`info ${HOSTILE}`);
    reporter.notice(`notice ${HOSTILE}`);
    reporter.failure(`failure ${HOSTILE}`);
    reporter.error(new StoreError('NotFound', 'no checkpoint', { operation: 'pull', key: HOSTILE }), HOSTILE);
    await new Promise((r) => setImmediate(r));
    expect(out.stdout.split('\n')).toHaveLength(3);
    expect(out.stderr.split('\n')).toHaveLength(5);
    expect(unsafe(out.stdout)).toBe(false);
    expect(unsafe(out.stderr)).toBe(false);
    expect(out.stderr).toContain('ckpt: pull a\\x1b]0;pwned\\x07b');
  });

  it('--json errors are escaped too', async () => {
    const { reporter, out } = capture({ json: true });
    reporter.error(new StoreError('InvalidArgument', HOSTILE, { operation: 'model' }));
    await new Promise((r) => setImmediate(r));
    expect(unsafe(out.stdout)).toBe(false);
    expect(unsafe(out.stderr)).toBe(false);
    expect(JSON.parse(out.stdout).error).toMatchObject({ code: 'InvalidArgument', exitCode: 2 });
  });
});
