/** Where a JSON text stops being valid: 1-based line and column, and what was expected there. */
export interface JsonErrorLocation {
  line: number;
  column: number;
  reason: string;
}

class Stop {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

const SPACE = /[ \t\n\r]*/y;
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const LITERAL = /true|false|null/y;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON strings may not hold raw control characters
const STRING_PART = /[^"\\\u0000-\u001f]+|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})/y;

/**
 * Finds the first syntax error in `text` (call it after `JSON.parse` failed). V8's own messages
 * lack a position in some Node versions and quote the surrounding text, which may hold a secret.
 */
export function locateJsonError(text: string): JsonErrorLocation | undefined {
  let i = 0;
  const eat = (pattern: RegExp): boolean => {
    pattern.lastIndex = i;
    if (!pattern.test(text)) return false;
    i = pattern.lastIndex;
    return true;
  };
  const expect = (char: string, reason: string) => {
    eat(SPACE);
    if (text[i] !== char) throw new Stop(i, reason);
    i++;
  };
  const string = () => {
    expect('"', 'expected a double-quoted string');
    while (eat(STRING_PART));
    if (text[i] === '"') i++;
    else if (i >= text.length) throw new Stop(i, 'unterminated string');
    else throw new Stop(i, text[i] === '\\' ? 'invalid escape in string' : 'control character in string');
  };
  const sequence = (open: string, close: string, item: () => void) => {
    expect(open, `expected "${open}"`);
    eat(SPACE);
    if (text[i] === close) {
      i++;
      return;
    }
    do item();
    while (eat(/[ \t\n\r]*,/y));
    expect(close, `expected "," or "${close}"`);
  };
  const member = () => {
    eat(SPACE);
    if (text[i] !== '"') throw new Stop(i, 'expected a double-quoted property name');
    string();
    expect(':', 'expected ":"');
    value();
  };
  const value = (): void => {
    eat(SPACE);
    if (text[i] === '{') sequence('{', '}', member);
    else if (text[i] === '[') sequence('[', ']', value);
    else if (text[i] === '"') string();
    else if (!eat(LITERAL) && !eat(NUMBER)) {
      throw new Stop(i, i >= text.length ? 'unexpected end of file' : 'expected a value');
    }
  };
  try {
    value();
    eat(SPACE);
    if (i < text.length) throw new Stop(i, 'unexpected text after the end');
    return undefined;
  } catch (err) {
    if (!(err instanceof Stop)) throw err;
    const before = text.slice(0, err.offset);
    return {
      line: before.split('\n').length,
      column: err.offset - before.lastIndexOf('\n'),
      reason: err.reason,
    };
  }
}
